// GET /v1/tenants/{id}/sla?month=YYYY-MM: the tenant's monthly SLA report (observe/sla.hpp).

#include <fmt/format.h>

#include "hangar/api/routes.hpp"
#include "hangar/observe/sla.hpp"

namespace hangar::api {

using core::ErrorCode;
using core::Fail;

void AddSlaRoutes(http::Router& router, Deps& deps, metrics::Tsdb& tsdb) {
    router.Add(
        "GET",
        "/v1/tenants/{id}/sla",
        Wrap(
            deps,
            "",
            [&deps, &tsdb](Call& c) -> Result<http::Response> {
                if (auto k = KnownQuery(c.req, {"month"}); !k) {
                    return Fail(k.error());
                }
                std::string tenant(c.req.Param("id"));
                auto t = deps.store.Get(tenant);
                if (!t || t->kind != "Tenant" || !c.who.Sees(tenant)) {
                    return Fail(NotFound("tenant", tenant));
                }
                auto month = c.req.Query("month");
                if (!month) {
                    return Fail(
                        ErrorCode::kInvalidArgument,
                        "query parameter month is required: YYYY-MM, such as 2026-10"
                    );
                }
                int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  deps.clock.Now().time_since_epoch()
                )
                                  .count();
                auto report = observe::SlaReport(deps.store, tsdb, tenant, *month, now);
                if (!report) {
                    return Fail(report.error());
                }
                return JsonResponse(200, *report);
            }
        )
    );
}

}  // namespace hangar::api
