// The OpenAPI document and the router must agree: a route missing from the document, or a
// documented path nobody serves, fails here.

#include <set>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "hangar/alerting/dispatcher.hpp"
#include "hangar/alerting/remediator.hpp"
#include "hangar/api/kinds.hpp"
#include "hangar/api/routes.hpp"
#include "hangar/api/watch_hub.hpp"
#include "hangar/edge/collector.hpp"
#include "hangar/edge/keys.hpp"
#include "hangar/edge/push.hpp"
#include "hangar/edge/routes.hpp"
#include "hangar/edge/workspaces.hpp"
#include "hangar/incidents/incidents.hpp"
#include "hangar/metrics/tsdb.hpp"

#include "server_process.hpp"

namespace hangar::api {

TEST(OpenApi, DocumentsEveryRouteAndNothingElse) {
    testing::TempDir dir;
    auto store = store::Store::Open("sqlite:" + dir.path() + "/h.db", {});
    ASSERT_TRUE(store);
    core::SystemClock clock;
    auth::TokenService tokens(**store, clock);
    WatchHub hub(**store);
    Kinds kinds;
    AddBuiltinKinds(kinds);
    AddFleetKinds(kinds, **store);
    AddObserveKinds(kinds);
    AddAlertingKinds(kinds);
    auto keys = edge::CloudKeys::LoadOrCreate(dir.path() + "/master-key");
    ASSERT_TRUE(keys);
    AddEdgeKinds(kinds, *keys);
    auto tsdb = metrics::Tsdb::Open({.dir = dir.path() + "/metrics"});
    ASSERT_TRUE(tsdb);
    oncall::Notifier notifier({}, nullptr);
    oncall::Pager pager(**store, notifier, clock, "http://127.0.0.1");
    alerting::Dispatcher dispatcher(**store, pager, notifier, clock, {});
    alerting::Remediator remediator(**store, clock, nullptr);
    incidents::Incidents incidents(**store, tsdb->get(), clock);
    edge::Workspaces workspaces(**store, *keys, clock, {});
    edge::Collector collector(**store, *keys, clock, tsdb->get(), {});
    Deps deps{
        **store,
        tokens,
        clock,
        nullptr,
        nullptr,
        tsdb->get(),
        &dispatcher,
        &pager,
        &remediator,
        &incidents,
        &workspaces,
        &collector};
    core::MetricsRegistry metrics;
    http::Router router;
    AddAllRoutes(router, deps, kinds, hub, metrics, [] { return true; });
    edge::PushGateway push(**store, workspaces, *keys, clock, nullptr, nullptr, {});
    edge::EdgeDeps edge_deps{workspaces, collector, nullptr, &push};
    edge::AddWorkspaceCloudRoutes(router, edge_deps);

    boost::json::value doc = boost::json::parse(OpenApiDocument());
    ASSERT_EQ(doc.at("openapi").as_string(), "3.1.0");
    const auto& paths = doc.at("paths").as_object();
    std::set<std::pair<std::string, std::string>> documented;
    for (const auto& p : paths) {
        for (const auto& op : p.value().as_object()) {
            std::string method(op.key());
            if (method == "parameters") {
                continue;
            }
            for (char& c : method) {
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
            documented.emplace(method, std::string(p.key()));
        }
    }
    std::set<std::pair<std::string, std::string>> routed;
    for (const auto& r : router.routes()) {
        routed.emplace(r.method, r.pattern);
        EXPECT_TRUE(documented.count({r.method, r.pattern}))
            << r.method << " " << r.pattern << " is not in docs/openapi.json";
    }
    for (const auto& d : documented) {
        EXPECT_TRUE(routed.count(d))
            << d.first << " " << d.second << " is documented but not served";
    }
}

}  // namespace hangar::api
