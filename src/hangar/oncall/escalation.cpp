#include "hangar/oncall/escalation.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "hangar/core/clock.hpp"
#include "hangar/core/destination.hpp"
#include "hangar/core/json.hpp"

namespace hangar::oncall {

namespace json = boost::json;
using core::ObjectReader;

core::Result<json::object> ValidateEscalationPolicySpec(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    json::array steps;
    if (const json::array* ss = r.Array("steps", true)) {
        if (ss->empty() || ss->size() > 20) {
            r.SetError("spec.steps", "must hold 1 to 20 steps");
        }
        for (size_t i = 0; i < ss->size() && r.ok(); ++i) {
            std::string path = fmt::format("spec.steps[{}]", i);
            if (!(*ss)[i].is_object()) {
                r.SetError(path, "must be an object with targets and wait");
                break;
            }
            ObjectReader sr((*ss)[i].as_object(), path);
            json::object step;
            json::array targets;
            if (const json::array* ts = sr.Array("targets", true)) {
                if (ts->empty() || ts->size() > 20) {
                    sr.SetError(path + ".targets", "must name 1 to 20 targets");
                }
                for (size_t j = 0; j < ts->size() && sr.ok(); ++j) {
                    std::string tpath = fmt::format("{}.targets[{}]", path, j);
                    if (!(*ts)[j].is_object()) {
                        sr.SetError(
                            tpath,
                            "must be {\"schedule\": name}, {\"user\": name} or {\"webhook_url\": "
                            "url}"
                        );
                        break;
                    }
                    ObjectReader tr((*ts)[j].as_object(), tpath);
                    json::object t;
                    for (const char* key : {"schedule", "user", "webhook_url"}) {
                        if (auto v = tr.String(key)) {
                            t[key] = *v;
                        }
                    }
                    if (t.size() != 1 && tr.ok()) {
                        tr.SetError(tpath, "needs exactly one of schedule, user or webhook_url");
                    }
                    if (const auto* u = t.if_contains("webhook_url");
                        u != nullptr && u->is_string()) {
                        if (auto ok = core::DestinationPolicy::Global().CheckUrl(u->as_string());
                            !ok) {
                            tr.SetError(tpath + ".webhook_url", ok.error().message);
                        }
                    }
                    sr.Absorb(tr.Finish());
                    targets.push_back(std::move(t));
                }
            }
            step["targets"] = std::move(targets);
            std::string wait = sr.String("wait").value_or("10m");
            auto d = core::ParseDuration(wait);
            if (!d || d->count() < 1 || d->count() > 7 * 86400) {
                sr.SetError(path + ".wait", "must be a duration from 1s to 7d, such as 10m");
            }
            step["wait"] = wait;
            r.Absorb(sr.Finish());
            steps.push_back(std::move(step));
        }
    }
    out["steps"] = std::move(steps);
    auto repeat = r.Int("repeat");
    if (repeat && (*repeat < 0 || *repeat > 9)) {
        r.SetError("spec.repeat", "must be between 0 and 9");
    }
    out["repeat"] = repeat.value_or(0);
    if (auto d = r.String("description")) {
        out["description"] = *d;
    }
    if (auto f = r.Finish(); !f) {
        return core::Fail(f.error());
    }
    return out;
}

}  // namespace hangar::oncall
