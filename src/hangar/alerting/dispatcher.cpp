#include "hangar/alerting/dispatcher.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "hangar/alerting/grouping.hpp"
#include "hangar/alerting/remediator.hpp"
#include "hangar/alerting/silence_status.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/metrics/promql_ast.hpp"

namespace hangar::alerting {

namespace json = boost::json;
using Key = std::pair<std::string, std::string>;

struct Dispatcher::Route {
    std::string path;
    std::vector<metrics::Matcher> matchers;
    bool cont = false;
    std::string receiver;
    std::vector<std::string> group_by;
    bool group_all = false;  // group_by: ["..."]
    std::chrono::seconds wait{}, interval{}, repeat{};
    std::vector<Route> children;
};

namespace {

struct TenantConfig {
    std::optional<Dispatcher::Route> root;
    std::map<std::string, json::object> receivers;
    std::vector<Silence> silences;
    std::vector<Inhibit> inhibit;
    std::vector<Maintenance> maintenance;
};

std::vector<store::Object> ListAll(store::Store& store, const std::string& kind) {
    return store.ListAll(kind).value_or(std::vector<store::Object>{}
    );  // unreadable: as if none, this round
}

std::vector<std::string> Strings(const json::value* v) {
    std::vector<std::string> out;
    if (v != nullptr && v->is_array()) {
        for (const auto& s : v->as_array()) {
            out.emplace_back(s.as_string());
        }
    }
    return out;
}

std::vector<metrics::Matcher> MatchersAt(const json::object& o, std::string_view key) {
    auto m = ParseMatchers(Strings(o.if_contains(key)));
    return m ? *m : std::vector<metrics::Matcher>{};
}

Dispatcher::Route BuildRoute(
    const json::object& in,
    const Dispatcher::Route* parent,
    const std::string& path,
    const DispatcherOptions& d
) {
    Dispatcher::Route r;
    r.path = path;
    r.matchers = MatchersAt(in, "matchers");
    r.cont = core::BoolAt(in, "continue");
    r.receiver = in.contains("receiver") ? core::StrAt(in, "receiver")
                                         : (parent != nullptr ? parent->receiver : "");
    if (const auto* g = in.if_contains("group_by")) {
        r.group_by = Strings(g);
        r.group_all = std::find(r.group_by.begin(), r.group_by.end(), "...") != r.group_by.end();
    } else if (parent != nullptr) {
        r.group_by = parent->group_by;
        r.group_all = parent->group_all;
    } else {
        r.group_by = {"alertname", "tenant", "instance"};
    }
    auto dur = [&](std::string_view key, std::chrono::seconds inherited) {
        auto v = core::ParseDuration(core::StrAt(in, key));
        return v ? *v : inherited;
    };
    r.wait = dur("group_wait", parent != nullptr ? parent->wait : d.group_wait);
    r.interval = dur("group_interval", parent != nullptr ? parent->interval : d.group_interval);
    r.repeat = dur("repeat_interval", parent != nullptr ? parent->repeat : d.repeat_interval);
    if (const auto* cs = in.if_contains("routes")) {
        size_t i = 0;
        for (const auto& c : cs->as_array()) {
            r.children.push_back(BuildRoute(c.as_object(), &r, fmt::format("{}.{}", path, i++), d));
        }
    }
    return r;
}

// Alertmanager's walk: a node that matches hands the alert to its first matching child (and
// on, past children with `continue`); if no child takes it, the node does.
void MatchRoute(
    const Dispatcher::Route& r,
    const metrics::Labels& labels,
    bool root,
    std::vector<const Dispatcher::Route*>& out
) {
    if (!root && !Matches(labels, r.matchers)) {
        return;
    }
    size_t before = out.size();
    for (const auto& c : r.children) {
        size_t n = out.size();
        MatchRoute(c, labels, false, out);
        if (out.size() > n && !c.cont) {
            break;
        }
    }
    if (out.size() == before) {
        out.push_back(&r);
    }
}

const Inhibit& BuiltinInhibit() {
    static const Inhibit kRule{
        *ParseMatchers({"alertname=\"InstanceDown\""}),
        *ParseMatchers({"alertname!=\"InstanceDown\""}),
        {"tenant", "instance"}};
    return kRule;
}

std::string Summary(const Alert& a) {
    auto it = a.annotations.find("summary");
    if (it != a.annotations.end() && !it->second.empty()) {
        return it->second;
    }
    std::string_view name = metrics::Get(a.labels, "instance_name");
    if (name.empty()) {
        name = metrics::Get(a.labels, "instance");
    }
    return fmt::format(
        "{}{}", metrics::Get(a.labels, "alertname"), name.empty() ? "" : " " + std::string(name)
    );
}

}  // namespace

struct Dispatcher::Config {
    std::map<std::string, TenantConfig> tenants;
    std::string operator_id;
};

Dispatcher::Dispatcher(
    store::Store& store,
    oncall::Pager& pager,
    oncall::Notifier& notifier,
    const core::Clock& clock,
    DispatcherOptions opts
)
    : store_(store),
      pager_(pager),
      notifier_(notifier),
      clock_(clock),
      opts_(std::move(opts)),
      loop_(opts_.tick, [this] { Tick(); }) {}

void Dispatcher::Persist(const Entry& e, bool new_firing) {
    const Alert& a = e.alert;
    std::string now = core::FormatRfc3339(clock_.Now());
    json::object labels;
    store::Labels meta;
    for (const auto& l : a.labels) {
        labels[l.name] = l.value;
        meta[l.name] = l.value;
    }
    json::object annotations;
    for (const auto& [k, v] : a.annotations) {
        annotations[k] = v;
    }
    std::string state = a.resolved() ? "resolved" : "firing";
    meta["state"] = state;
    auto fill = [&](store::Object& o) {
        o.labels = meta;
        o.spec = json::object{
            {"labels", labels},
            {"annotations", annotations},
            {"source", a.source},
            {"generator_url", a.generator_url}};
        o.status["state"] = state;
        o.status["priority"] = PriorityOf(a.labels);
        o.status["value"] = a.value;
        o.status["suppressed_by"] = e.suppressed;
        if (new_firing) {
            o.status["starts_at"] = core::FormatRfc3339(a.starts_at);
            o.status["ends_at"] = "";
            o.status["fire_count"] = core::IntAt(o.status, "fire_count") + 1;
            json::array& firings = o.status["firings"].is_array()
                                       ? o.status["firings"].as_array()
                                       : o.status["firings"].emplace_array();
            firings.push_back(json::value(core::FormatRfc3339(a.starts_at)));
            if (firings.size() > 50) {
                firings.erase(firings.begin());
            }
        }
        if (a.resolved()) {
            o.status["ends_at"] = core::FormatRfc3339(*a.ends_at);
        }
    };
    auto existing = store_.FindByName("Alert", a.tenant, e.fp);
    if (existing) {
        auto u = store_.Update(
            existing->id,
            std::nullopt,
            now,
            [&](store::Object& o) -> core::Result<void> {
                fill(o);
                return {};
            },
            store::SystemAudit(now, "controller:alerts", a.tenant, existing->id)
        );
        if (!u) {
            core::LogWarn(
                "updating an alert failed",
                {{"alert", std::string_view(e.fp)}, {"error", u.error().message}}
            );
        }
        return;
    }
    if (a.resolved()) {
        return;  // never seen firing: nothing to record
    }
    store::Object o = store::NewSystemObject("Alert", "alr", a.tenant, now);
    o.name = e.fp;  // an alert is named by its fingerprint: one object per label set
    fill(o);
    auto c = store_.Create(
        o, std::nullopt, store::SystemAudit(now, "controller:alerts", a.tenant, o.id)
    );
    if (!c) {
        core::LogWarn(
            "recording an alert failed",
            {{"alert", std::string_view(e.fp)}, {"error", c.error().message}}
        );
    }
}

void Dispatcher::Receive(std::vector<Alert> alerts) {
    std::lock_guard lock(mu_);
    std::vector<std::pair<const Entry*, bool>> writes;  // (entry, new firing)
    for (auto& a : alerts) {
        std::string fp = Fingerprint(a.labels);
        Key key{a.tenant, fp};
        auto it = alerts_.find(key);
        if (it == alerts_.end()) {
            if (a.resolved()) {
                continue;  // a resolve for an alert never seen firing (or long gone)
            }
            Entry e{std::move(a), fp, "", false};
            it = alerts_.emplace(key, std::move(e)).first;
            writes.emplace_back(&it->second, true);
            continue;
        }
        Entry& e = it->second;
        bool was_resolved = e.alert.resolved();
        if (a.resolved() && was_resolved) {
            continue;
        }
        if (!a.resolved() && was_resolved) {
            e.alert = std::move(a);  // fires again
            e.remediated = false;
            writes.emplace_back(&e, true);
            continue;
        }
        if (a.resolved()) {
            e.alert.ends_at = a.ends_at;
            e.alert.value = a.value;
            writes.emplace_back(&e, false);
            continue;
        }
        // Still firing: keep the first start, take the new annotations and value.
        core::TimePoint start = e.alert.starts_at;
        e.alert = std::move(a);
        e.alert.starts_at = start;
    }
    PersistAll(writes);
}

void Dispatcher::PersistAll(const std::vector<std::pair<const Entry*, bool>>& writes) {
    // A storm (thousands of alerts starting at once) is written by several threads, so the
    // store's group commit shares each commit among them; one alert twice in a batch (its
    // writes must stay in order) is written in order.
    std::set<const Entry*> seen;
    bool twice = false;
    for (const auto& [e, fresh] : writes) {
        twice = twice || !seen.insert(e).second;
    }
    size_t threads = twice ? 1 : std::min<size_t>(16, (writes.size() + 15) / 16);
    if (threads <= 1) {
        for (const auto& [e, fresh] : writes) {
            Persist(*e, fresh);
        }
        return;
    }
    std::atomic<size_t> next{0};
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            for (size_t i = next++; i < writes.size(); i = next++) {
                Persist(*writes[i].first, writes[i].second);
            }
        });
    }
    for (auto& t : pool) {
        t.join();
    }
}

std::optional<Alert>
Dispatcher::FindByLabel(const std::string& tenant, std::string_view name, std::string_view value) {
    std::lock_guard lock(mu_);
    for (auto it = alerts_.lower_bound({tenant, ""});
         it != alerts_.end() && it->first.first == tenant;
         ++it) {
        if (!it->second.alert.resolved() && metrics::Get(it->second.alert.labels, name) == value) {
            return it->second.alert;
        }
    }
    return std::nullopt;
}

void Dispatcher::Tick() {
    auto now = clock_.Now();
    // Configuration: small, read each round (a second), so edits apply at once.
    Config cfg;
    // One indexed lookup, not a list of every tenant each second: that cost 0.1 core at 15,000
    // tenants.
    if (!opts_.operator_tenant.empty()) {
        if (auto t = store_.FindByName("Tenant", "", opts_.operator_tenant)) {
            cfg.operator_id = t->id;
        }
    }
    for (const auto& p : ListAll(store_, "NotificationPolicy")) {
        if (p.name != "default") {
            continue;
        }
        TenantConfig& tc = cfg.tenants[p.tenant];
        tc.root = BuildRoute(p.spec.at("route").as_object(), nullptr, "route", opts_);
        for (const auto& r : p.spec.at("receivers").as_array()) {
            tc.receivers[core::StrAt(r.as_object(), "name")] = r.as_object();
        }
        for (const auto& i : p.spec.at("inhibit_rules").as_array()) {
            const json::object& o = i.as_object();
            tc.inhibit.push_back(
                {MatchersAt(o, "source_matchers"),
                 MatchersAt(o, "target_matchers"),
                 Strings(o.if_contains("equal"))}
            );
        }
    }
    for (const auto& e : ListAll(store_, "EscalationPolicy")) {
        // A tenant without a NotificationPolicy pages its escalation policy named "default".
        TenantConfig& tc = cfg.tenants[e.tenant];
        if (e.name == "default" && !tc.root) {
            tc.root = BuildRoute(json::object{{"receiver", "default"}}, nullptr, "route", opts_);
            tc.receivers["default"] =
                json::object{{"name", "default"}, {"escalation_policy", "default"}};
        }
    }
    // Muting follows the silence's times; its status is the silence loop's (silence_status).
    for (const auto& s : ListAll(store_, "Silence")) {
        SilenceTimes times = TimesOf(s, now);
        if (SilenceStateAt(times, now).state != SilenceState::kActive) {
            continue;
        }
        cfg.tenants[s.tenant].silences.push_back(Silence{
            s.id,
            s.name,
            core::StrAt(s.spec, "comment"),
            MatchersAt(s.spec, "matchers"),
            times.start,
            times.end});
    }
    for (const auto& m : ListAll(store_, "MaintenanceWindow")) {
        auto start = core::ParseRfc3339(core::StrAt(m.spec, "starts_at"));
        auto end = core::ParseRfc3339(core::StrAt(m.spec, "ends_at"));
        if (!start || !end || now < *start || now >= *end) {
            continue;
        }
        Maintenance mw{m.name, core::StrAt(m.spec, "reason"), {}, *start, *end};
        if (auto sel = core::StrAt(m.spec, "selector"); !sel.empty()) {
            if (auto e = metrics::promql::Parse(sel);
                e && (*e)->kind == metrics::promql::Expr::Kind::kVectorSelector) {
                mw.matchers = (*e)->matchers;
            }
        }
        cfg.tenants[m.tenant].maintenance.push_back(std::move(mw));
    }

    std::lock_guard lock(mu_);
    for (auto& [key, g] : groups_) {
        g.members.clear();
    }
    // The inhibition rules each routing tenant applies (the built-in one first), and the
    // firing alerts that are their sources.
    auto routing_tenants = [&](const Alert& a) {
        std::vector<std::string> out{a.tenant};
        if (!cfg.operator_id.empty() && cfg.operator_id != a.tenant) {
            out.push_back(cfg.operator_id);
        }
        return out;
    };
    auto rules_of = [&](const std::string& tenant) {
        std::vector<const Inhibit*> rules{&BuiltinInhibit()};
        for (const auto& rule : cfg.tenants[tenant].inhibit) {
            rules.push_back(&rule);
        }
        return rules;
    };
    std::map<std::string, Inhibition> inhibition;
    for (const auto& [key, e] : alerts_) {
        if (!e.alert.resolved()) {
            for (const auto& r : routing_tenants(e.alert)) {
                inhibition[r].AddFiring(rules_of(r), e.alert.labels);
            }
        }
    }
    auto inhibited = [&](const std::string& r, const Alert& a) {
        const Inhibition& in = inhibition[r];
        auto rules = rules_of(r);
        return std::any_of(rules.begin(), rules.end(), [&](const Inhibit* rule) {
            return in.Inhibits(*rule, a.labels, !a.resolved());
        });
    };
    for (auto& [key, e] : alerts_) {
        const Alert& a = e.alert;
        std::string own_suppression;
        if (!a.resolved() && !e.remediated && remediator_ != nullptr) {
            bool in_maintenance = std::any_of(
                cfg.tenants[a.tenant].maintenance.begin(),
                cfg.tenants[a.tenant].maintenance.end(),
                [&](const Maintenance& m) { return Matches(a.labels, m.matchers); }
            );
            if (!in_maintenance) {
                remediator_->Enqueue(a, routing_tenants(a));
                e.remediated = true;
            }
        }
        for (const auto& r : routing_tenants(a)) {
            TenantConfig& tc = cfg.tenants[r];
            std::string why = MuteReason(
                a.labels, cfg.tenants[a.tenant].maintenance, tc.silences, inhibited(r, a)
            );
            if (r == a.tenant) {
                own_suppression = why;
            }
            if (!why.empty() || !tc.root) {
                continue;
            }
            std::vector<const Route*> routes;
            MatchRoute(*tc.root, a.labels, true, routes);
            for (const Route* route : routes) {
                std::string gkey =
                    GroupKey(r, route->path, route->group_by, route->group_all, a.labels);
                auto [git, created] = groups_.try_emplace(gkey);
                Group& g = git->second;
                if (created) {
                    g.tenant = r;
                    g.key = gkey;
                    g.created = now;
                }
                g.receiver = route->receiver;
                auto rs = tc.receivers.find(route->receiver);
                g.receiver_spec = rs != tc.receivers.end() ? rs->second : json::object{};
                g.wait = route->wait;
                g.interval = route->interval;
                g.repeat = route->repeat;
                g.members.push_back(key);
            }
        }
        if (own_suppression != e.suppressed) {
            // Remembered once written, so a failed write is tried again next round.
            if (auto o = store_.FindByName("Alert", a.tenant, e.fp)) {
                std::string t = core::FormatRfc3339(now);
                auto u = store_.Update(
                    o->id,
                    o->revision,
                    t,
                    [&](store::Object& obj) -> core::Result<void> {
                        obj.status["suppressed_by"] = own_suppression;
                        return {};
                    },
                    store::SystemAudit(t, "controller:alerts", a.tenant, o->id)
                );
                if (u) {
                    e.suppressed = own_suppression;
                }
            }
        }
    }
    // Notify the groups that are due; drop the ones with nothing left to say.
    std::set<Key> needed;
    for (auto it = groups_.begin(); it != groups_.end();) {
        Group& g = it->second;
        std::vector<const Entry*> members;
        std::string firing;
        for (const auto& k : g.members) {
            const Entry& e = alerts_.at(k);
            members.push_back(&e);
            if (!e.alert.resolved()) {
                firing += e.alert.tenant + "/" + e.fp + ",";
            }
        }
        auto [due, repeat] = DecideFlush(
            GroupClock{
                g.wait,
                g.interval,
                g.repeat,
                g.created,
                g.last_flush,
                g.last_notify,
                g.flushed,
                g.last_firing},
            firing,
            now
        );
        if (due) {
            Flush(g, members, repeat, now);
        }
        // Resolved alerts stay until a notification has said so.
        for (const Entry* e : members) {
            if (e->alert.resolved() && g.flushed && g.last_flush < *e->alert.ends_at) {
                needed.insert({e->alert.tenant, e->fp});
            }
        }
        if (g.members.empty() || (firing.empty() && (!g.flushed || g.last_firing.empty()))) {
            if (g.flushed && !g.last_firing.empty()) {
                ++it;  // one more flush will tell the receiver it resolved
                continue;
            }
            it = groups_.erase(it);
            continue;
        }
        ++it;
    }
    for (auto it = alerts_.begin(); it != alerts_.end();) {
        if (it->second.alert.resolved() && !needed.contains(it->first)) {
            it = alerts_.erase(it);
        } else {
            ++it;
        }
    }
    pager_.Tick();
}

void Dispatcher::Flush(
    Group& g,
    const std::vector<const Entry*>& members,
    bool repeat,
    core::TimePoint now
) {
    std::vector<const Entry*> firing, resolved;
    std::string firing_key;
    for (const Entry* e : members) {
        if (e->alert.resolved()) {
            resolved.push_back(e);
        } else {
            firing.push_back(e);
            firing_key += e->alert.tenant + "/" + e->fp + ",";
        }
    }
    g.flushed = true;
    g.last_flush = now;
    g.last_notify = now;
    g.last_firing = firing_key;
    std::string priority = "P4";
    json::array alerts;
    std::string details;
    for (const Entry* e : firing) {
        priority = std::min(priority, PriorityOf(e->alert.labels));
    }
    auto line = [&](const Entry* e, std::string_view state) {
        const Alert& a = e->alert;
        details += fmt::format(
            "{} {} [{}] {}",
            state,
            metrics::Get(a.labels, "alertname"),
            PriorityOf(a.labels),
            Summary(a)
        );
        if (auto tn = metrics::Get(a.labels, "tenant"); !tn.empty()) {
            details += fmt::format(" (tenant {})", tn);
        }
        details += fmt::format(" since {}", core::FormatRfc3339(a.starts_at));
        if (auto it = a.annotations.find("runbook_url"); it != a.annotations.end()) {
            details += " · runbook " + it->second;
        }
        details += "\n";
        alerts.push_back(json::object{
            {"tenant", a.tenant},
            {"fingerprint", e->fp},
            {"alertname", metrics::Get(a.labels, "alertname")},
            {"state", state == "FIRING" ? "firing" : "resolved"},
            {"summary", Summary(a)}});
    };
    for (const Entry* e : firing) {
        line(e, "FIRING");
    }
    for (const Entry* e : resolved) {
        line(e, "RESOLVED");
    }
    std::string title;
    if (firing.size() == 1) {
        title = fmt::format("[{}] {}", priority, Summary(firing[0]->alert));
    } else if (!firing.empty()) {
        title = fmt::format(
            "[{}] {} alerts firing: {}",
            priority,
            firing.size(),
            metrics::Get(firing[0]->alert.labels, "alertname")
        );
    } else {
        title =
            fmt::format("[RESOLVED] {}", resolved.empty() ? "alerts" : Summary(resolved[0]->alert));
    }
    const json::object& recv = g.receiver_spec;
    if (auto policy = core::StrAt(recv, "escalation_policy"); !policy.empty()) {
        if (firing.empty()) {
            pager_.ResolveKey(g.tenant, g.key, "every alert of the group resolved");
        } else if (repeat) {
            pager_.Renotify(g.tenant, g.key);
        } else {
            oncall::PageRequest req{g.tenant, g.key, title, details, priority, policy, alerts, ""};
            if (auto p = pager_.Trigger(req); !p) {
                core::LogWarn(
                    "opening a page failed",
                    {{"tenant", std::string_view(g.tenant)}, {"error", p.error().message}}
                );
            }
        }
        return;
    }
    if (auto hook = core::StrAt(recv, "webhook_url"); !hook.empty()) {
        notifier_.Enqueue(oncall::Message{
            oncall::Message::Channel::kWebhook, hook, title, details, "", ""});
    } else if (auto mail = core::StrAt(recv, "email"); !mail.empty()) {
        notifier_.Enqueue(oncall::Message{
            oncall::Message::Channel::kEmail, mail, title, details, "", ""});
    }
}

}  // namespace hangar::alerting
