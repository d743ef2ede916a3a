#include "hangar/observe/slo.hpp"

#include <cmath>

#include <fmt/format.h>

#include <boost/json.hpp>

#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/metrics/promql_engine.hpp"

namespace hangar::observe {

namespace json = boost::json;

namespace {

constexpr std::pair<const char*, const char*> kBurnWindows[] = {
    {"5m", "5m"},
    {"30m", "30m"},
    {"1h", "1h"},
    {"6h", "6h"}};

double Round(double v, int digits) {
    double f = std::pow(10.0, digits);
    return std::round(v * f) / f;
}

}  // namespace

SloEvaluator::SloEvaluator(
    store::Store& store,
    metrics::Tsdb& db,
    const core::Clock& clock,
    std::chrono::milliseconds interval
)
    : store_(store), db_(db), clock_(clock), loop_(interval, [this] { EvaluateAll(); }) {}

void SloEvaluator::EvaluateAll() {
    auto all = store_.ListAll("SLO");
    if (!all) {
        return;
    }
    std::vector<store::Object> slos = std::move(*all);
    auto now_tp = clock_.Now();
    int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(now_tp.time_since_epoch()).count();
    std::string now_text = core::FormatRfc3339(now_tp);
    metrics::promql::Engine engine(db_);
    for (const auto& slo : slos) {
        const json::object& spec = slo.spec;
        double target = spec.at("target_percent").to_number<double>() / 100;
        std::string sel = "up{job=\"hangar-probe\"";
        if (auto i = core::StrAt(spec, "instance"); !i.empty()) {
            sel += fmt::format(",instance=\"{}\"", metrics::EscapeLabelValue(i));
        }
        if (auto p = core::StrAt(spec, "product"); !p.empty()) {
            sel += fmt::format(",product=\"{}\"", metrics::EscapeLabelValue(p));
        }
        sel += "}";
        auto availability = [&](const std::string& window) -> std::optional<double> {
            auto r = engine.Instant(
                slo.tenant, fmt::format("avg(avg_over_time({}[{}]))", sel, window), now
            );
            if (!r || r->series.empty()) {
                return std::nullopt;
            }
            return r->series[0].samples.back().v;
        };
        json::object status;
        metrics::WriteBatch batch;
        std::vector<metrics::Sample> one(1);
        auto add = [&](std::string_view name, double v, std::string_view window = "") {
            std::vector<metrics::LabelView> l = {{"__name__", name}, {"slo", slo.name}};
            if (!window.empty()) {
                l.push_back({"window", window});
            }
            one[0] = {now, v};
            batch.Add(l, one);
        };
        auto whole = availability(fmt::format("{}d", core::IntAt(spec, "window_days")));
        add("slo_objective", target);
        if (!whole) {
            status["state"] = "NoData";
            status["message"] = "no probe results for this SLO's instances yet";
        } else {
            double budget = 1 - (1 - *whole) / (1 - target);
            status["state"] = budget > 0 ? "Met" : "BudgetExhausted";
            status["availability_percent"] = Round(*whole * 100, 4);
            status["error_budget_remaining"] = Round(budget, 4);
            add("slo_availability", *whole);
            add("slo_error_budget_remaining", budget);
            json::object burns;
            std::map<std::string, double> burn;
            for (auto [name, window] : kBurnWindows) {
                if (auto a = availability(window)) {
                    burn[name] = (1 - *a) / (1 - target);
                    burns[name] = Round(burn[name], 3);
                    add("slo_burn_rate", burn[name], name);
                }
            }
            status["burn_rates"] = std::move(burns);
            bool fast = burn["1h"] > 14.4 && burn["5m"] > 14.4;
            bool slow = burn["6h"] > 6 && burn["30m"] > 6;
            status["fast_burn"] = fast;
            status["slow_burn"] = slow;
        }
        if (auto w = db_.Append(slo.tenant, batch); !w) {
            core::LogWarn(
                "storing SLO series failed",
                {{"slo", std::string_view(slo.id)}, {"error", w.error().message}}
            );
        }
        json::object previous = slo.status;
        previous.erase("evaluated_at");
        if (previous == status) {
            continue;  // nothing new: no write, no audit event
        }
        status["evaluated_at"] = now_text;
        store::AuditEvent system =
            store::SystemAudit(now_text, "controller:slo", slo.tenant, slo.id);
        auto u = store_.Update(
            slo.id,
            slo.revision,
            now_text,
            [&](store::Object& o) -> core::Result<void> {
                o.status = status;
                return {};
            },
            system
        );
        if (!u && u.error().code != core::ErrorCode::kConflict &&
            u.error().code != core::ErrorCode::kNotFound) {
            core::LogWarn(
                "writing SLO status failed",
                {{"slo", std::string_view(slo.id)}, {"error", u.error().message}}
            );
        }
    }
}

}  // namespace hangar::observe
