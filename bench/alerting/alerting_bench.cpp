// bench/alerting driver (run by run.sh, which starts the servers pinned to core 0).
//   rules-yaml                 the 1,000 rules as a Prometheus rule file (stdout)
//   setup PORT TOKEN           makes the tenant "bench"; prints its id
//   rules PORT TOKEN TENANT    creates the same 1,000 rules as AlertRules
//   eval HPORT HPID PPORT PPID TOKEN TENANT WINDOW
//                              waits for passes over the ingested data, then reports each
//                              server's last pass, passes and CPU per pass over WINDOW seconds,
//                              and the alerts firing on each (the answers must agree)
//   notify PORT TOKEN TENANT   routes every firing alert (its own group) to a webhook here and
//                              times the deliveries: end-to-end notifications per second
//   oom PORT TOKEN RUNS SMTP   the on-call loop at default intervals on real processes: seconds
//                              from the OOM kill to the page, to the email, to the remediation
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include <boost/json.hpp>

#include "hangar/core/clock.hpp"

#include "bench_support.hpp"
#include "fake_receivers.hpp"
#include "http_client.hpp"
#include "metrics_helpers.hpp"

using namespace hangar::testing;
namespace json = boost::json;

namespace {

constexpr int kRules = 1000;
constexpr int kInstances = 10000;  // × 10 series (metrics_bench's synthetic data)

// Rule k watches ten instances (k, k+1000, ...): every series is some rule's.
std::string Expr(int k) {
    std::string set;
    for (int j = 0; j < kInstances / kRules; ++j) {
        set += fmt::format("{}i{}", j == 0 ? "" : "|", k + j * kRules);
    }
    switch (k % 4) {
        case 0:
            return fmt::format("demo_temperature{{instance=~\"{}\"}} > 27", set);
        case 1:
            return fmt::format(
                "rate(demo_requests_total{{code=\"500\",instance=~\"{}\"}}[5m]) > 0.4", set
            );
        case 2:
            return fmt::format(
                "sum by (instance) (rate(demo_requests_total{{instance=~\"{}\"}}[5m])) > 5.3", set
            );
        default:
            return fmt::format(
                "histogram_quantile(0.9, sum by (instance, le) "
                "(rate(demo_latency_seconds_bucket{{instance=~\"{}\"}}[5m]))) > 0.12",
                set
            );
    }
}

Client Api(int port, const std::string& token) {
    Client c("127.0.0.1", port);
    c.SetToken(token);
    return c;
}

// A sample value from a Prometheus text exposition ("name{labels} value"), summed over lines
// that start with `prefix`.
double Scrape(int port, const std::string& prefix) {
    Client c("127.0.0.1", port);
    auto r = c.Do("GET", "/metrics");
    double sum = 0;
    std::istringstream in(r.body);
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with(prefix)) {
            sum += std::stod(line.substr(line.rfind(' ') + 1));
        }
    }
    return sum;
}

size_t HangarFiring(int port, const std::string& token, const std::string& tenant) {
    auto c = Api(port, token);
    size_t n = 0;
    std::string cursor;
    for (int guard = 0; guard < 1000; ++guard) {
        auto r = c.Do(
            "GET",
            "/v1/alerts?limit=1000&selector=state%3Dfiring" +
                std::string(cursor.empty() ? "" : "&cursor=" + UrlEncode(cursor)),
            "",
            {{"X-Scope-OrgID", tenant}}
        );
        auto doc = r.Json();
        for (const auto& a : doc.at("items").as_array()) {
            n += a.at("metadata").at("tenant").as_string() == tenant ? 1 : 0;
        }
        const auto* next = doc.as_object().if_contains("next_cursor");
        if (next == nullptr || !next->is_string() || next->as_string().empty()) {
            break;
        }
        cursor = std::string(next->as_string());
    }
    return n;
}

size_t PrometheusFiring(int port) {
    Client c("127.0.0.1", port);
    auto doc = c.Do("GET", "/api/v1/alerts").Json();
    size_t n = 0;
    for (const auto& a : doc.at("data").at("alerts").as_array()) {
        n += a.at("state").as_string() == "firing" ? 1 : 0;
    }
    return n;
}

int Eval(
    int hport,
    int hpid,
    int pport,
    int ppid,
    const std::string& token,
    const std::string& tenant,
    int window
) {
    // How long a storm takes to be recorded: from the rules' creation (just before) until Hangar
    // holds an Alert object for every alert Prometheus fires.
    auto created = std::chrono::steady_clock::now();
    double recorded_s = -1;
    for (int i = 0; i < 600; ++i) {  // at most 5 minutes
        size_t want = PrometheusFiring(pport);
        if (want > 0 && HangarFiring(hport, token, tenant) >= want * 99 / 100) {
            recorded_s =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - created).count();
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    // Two passes of each after the data is in, so both have evaluated it.
    double h0 = Scrape(hport, "hangar_rule_evaluations_total"),
           p0 = Scrape(pport, "prometheus_rule_group_iterations_total");
    for (int i = 0; i < 600 && (Scrape(hport, "hangar_rule_evaluations_total") < h0 + 2 ||
                                Scrape(pport, "prometheus_rule_group_iterations_total") < p0 + 2);
         ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    double hc0 = CpuSeconds(hpid), pc0 = CpuSeconds(ppid);
    h0 = Scrape(hport, "hangar_rule_evaluations_total");
    p0 = Scrape(pport, "prometheus_rule_group_iterations_total");
    std::this_thread::sleep_for(std::chrono::seconds(window));
    double hpasses = Scrape(hport, "hangar_rule_evaluations_total") - h0,
           ppasses = Scrape(pport, "prometheus_rule_group_iterations_total") - p0;
    double hcpu = CpuSeconds(hpid) - hc0, pcpu = CpuSeconds(ppid) - pc0;
    double hlast = Scrape(hport, "hangar_rule_evaluation_seconds"),
           plast = Scrape(pport, "prometheus_rule_group_last_duration_seconds");
    size_t hfiring = HangarFiring(hport, token, tenant), pfiring = PrometheusFiring(pport);
    // server | last pass ms | passes in window | server CPU ms per pass | alerts firing
    fmt::print(
        "| Hangar | {:.0f} | {:.0f} | {:.0f} | {} |\n",
        hlast * 1000,
        hpasses,
        hpasses > 0 ? hcpu * 1000 / hpasses : 0,
        hfiring
    );
    fmt::print(
        "| Prometheus 2.42 | {:.0f} | {:.0f} | {:.0f} | {} |\n",
        plast * 1000,
        ppasses,
        ppasses > 0 ? pcpu * 1000 / ppasses : 0,
        pfiring
    );
    fmt::print(
        "\nHangar had recorded an Alert object for 99% of the alerts Prometheus fires {:.1f} s "
        "after its rules were created "
        "(the first pass runs within 15 s; every new alert is a store write).\n",
        recorded_s
    );
    if (hfiring == 0 || pfiring == 0 || hfiring * 10 < pfiring * 9 || pfiring * 10 < hfiring * 9) {
        fmt::print(
            stderr, "eval: the servers disagree on what fires ({} vs {})\n", hfiring, pfiring
        );
        return 1;
    }
    return 0;
}

int Notify(int port, const std::string& token, const std::string& tenant) {
    WebhookReceiver hook;
    size_t firing = HangarFiring(port, token, tenant);
    auto c = Api(port, token);
    auto t0 = std::chrono::steady_clock::now();
    auto r = c.Do(
        "POST",
        "/v1/notificationpolicies",
        json::serialize(json::object{
            {"metadata", {{"name", "default"}, {"tenant", tenant}}},
            {"spec",
             {{"route",
               {{"receiver", "hook"},
                {"group_by", {"..."}},
                {"group_wait", "1s"},
                {"group_interval", "1m"}}},
              {"receivers",
               json::array{json::object{{"name", "hook"}, {"webhook_url", hook.Url("/bench")}}}}}}})
    );
    if (r.status != 201) {
        fmt::print(stderr, "notify: {} {}\n", r.status, r.body);
        return 1;
    }
    bool all = hook.WaitFor(firing, std::chrono::seconds(300));
    auto requests = hook.Requests();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    size_t valid = 0;
    for (const auto& q : requests) {
        auto doc = json::parse(q.body);
        valid += doc.as_object().contains("text") && doc.as_object().contains("blocks") ? 1 : 0;
    }
    // alerts | notifications | valid Slack JSON | seconds from policy to last | notifications/s
    fmt::print(
        "| {} | {} | {} | {:.1f} | {:.0f} |\n",
        firing,
        requests.size(),
        valid,
        secs,
        static_cast<double>(requests.size()) / secs
    );
    return all && valid == requests.size() ? 0 : 1;
}

int Oom(int port, const std::string& token, int runs, int smtp_port) {
    SmtpServer smtp(smtp_port);
    auto c = Api(port, token);
    auto must = [&](const std::string& path, const json::object& body) {
        auto r = c.Do("POST", path, json::serialize(body));
        if (r.status != 201) {
            fmt::print(stderr, "oom: {} {} {}\n", path, r.status, r.body);
            std::exit(1);
        }
        return r.Json();
    };
    for (auto [name, mb] : {std::pair{"small", 64}, {"medium", 128}}) {
        must(
            "/v1/plans",
            {{"metadata", {{"name", name}}}, {"spec", {{"memory_mb", mb}, {"cpu_millis", 200}}}}
        );
    }
    must(
        "/v1/products",
        {{"metadata", {{"name", "workspace"}}},
         {"spec",
          {{"versions",
            json::array{json::object{
                {"version", "1"},
                {"run", {{"process", {{"command", {"hangar-workspace", "--port", "{port}"}}}}}},
                {"health", {{"http", {{"path", "/healthz"}}}}}}}}}}}
    );
    std::string tenant = Str(
        must("/v1/tenants", {{"metadata", {{"name", "oom"}}}, {"spec", {{"display_name", "oom"}}}}),
        {"metadata", "id"}
    );
    must(
        "/v1/users",
        {{"metadata", {{"name", "alice"}, {"tenant", tenant}}},
         {"spec", {{"email", "alice@bench.test"}, {"role", "operator"}}}}
    );
    must(
        "/v1/escalationpolicies",
        {{"metadata", {{"name", "default"}, {"tenant", tenant}}},
         {"spec",
          {{"steps", json::array{json::object{{"targets", {json::object{{"user", "alice"}}}}}}}}}}
    );
    fmt::print(
        "| run | OOM kill (UTC) | to page s | to email s | to remediation s "
        "|\n|---|---|---|---|---|\n"
    );
    int failures = 0;
    for (int run = 1; run <= runs; ++run) {
        std::string id =
            Str(must(
                    "/v1/instances",
                    {{"metadata", {{"name", fmt::format("shop-{}", run)}, {"tenant", tenant}}},
                     {"spec", {{"product", "workspace"}, {"plan", "small"}}}}
                ),
                {"metadata", "id"});
        json::value ins;
        for (int i = 0; i < 1200 && Str(ins, {"status", "phase"}) != "Running"; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            ins = c.Do("GET", "/v1/instances/" + id).Json();
        }
        std::string ep = Str(ins, {"status", "endpoint"});
        // Two probes at 0 first (increase needs a before), as in life: instances run a while.
        std::this_thread::sleep_for(std::chrono::seconds(25));
        size_t mails = smtp.Messages().size();
        Client app("127.0.0.1", std::stoi(ep.substr(ep.rfind(':') + 1)));
        app.Do("POST", "/leak?mb=150");
        std::optional<hangar::core::TimePoint> killed, paged, mailed, remedied;
        for (int i = 0; i < 1800 && !(killed && paged && mailed && remedied);
             ++i) {  // at most 3 minutes
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            auto now = std::chrono::system_clock::now();
            if (!mailed && smtp.Messages().size() > mails) {
                mailed = now;
            }
            ins = c.Do("GET", "/v1/instances/" + id).Json();
            for (const auto& e : ins.at("status").as_object().contains("events")
                                     ? ins.at("status").at("events").as_array()
                                     : json::array()) {
                if (!killed && Str(e, {"reason"}) == "OOMKilled") {
                    killed = hangar::core::ParseRfc3339(Str(e, {"time"}));
                }
            }
            auto pages = c.Do("GET", "/v1/pages", "", {{"X-Scope-OrgID", tenant}}).Json();
            for (const auto& p : pages.at("items").as_array()) {
                if (!paged && Str(p, {"spec", "title"}).find(fmt::format("shop-{}", run)) !=
                                  std::string::npos) {
                    paged = hangar::core::ParseRfc3339(Str(p, {"status", "triggered_at"}));
                }
            }
            auto alerts = c.Do("GET",
                               "/v1/alerts?selector=" +
                                   UrlEncode("alertname=InstanceOOMKilled,instance=" + id))
                              .Json();
            for (const auto& a : alerts.at("items").as_array()) {
                if (!remedied && a.at("status").as_object().contains("remediations")) {
                    remedied = hangar::core::ParseRfc3339(
                        Str(a.at("status").at("remediations").as_array()[0], {"at"})
                    );
                }
            }
        }
        auto secs = [&](const std::optional<hangar::core::TimePoint>& t) {
            return killed && t
                       ? fmt::format("{:.1f}", std::chrono::duration<double>(*t - *killed).count())
                       : std::string("—");
        };
        fmt::print(
            "| {} | {} | {} | {} | {} |\n",
            run,
            killed ? hangar::core::FormatRfc3339(*killed) : "not killed",
            secs(paged),
            secs(mailed),
            secs(remedied)
        );
        failures += killed && paged && mailed && remedied ? 0 : 1;
        c.Do("DELETE", "/v1/instances/" + id);
    }
    return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() == 1 && a[0] == "rules-yaml") {
        fmt::print("groups:\n  - name: bench\n    rules:\n");
        for (int k = 0; k < kRules; ++k) {
            fmt::print(
                "      - alert: Bench{}\n        expr: '{}'\n        labels: {{severity: "
                "warning}}\n",
                k,
                Expr(k)
            );
        }
        return 0;
    }
    if (a.size() == 3 && a[0] == "setup") {
        auto r = Api(std::stoi(a[1]), a[2])
                     .Do("POST",
                         "/v1/tenants",
                         R"({"metadata":{"name":"bench"},"spec":{"display_name":"bench"}})");
        fmt::print("{}\n", Str(r.Json(), {"metadata", "id"}));
        return r.status == 201 ? 0 : 1;
    }
    if (a.size() == 4 && a[0] == "rules") {
        auto c = Api(std::stoi(a[1]), a[2]);
        for (int k = 0; k < kRules; ++k) {
            auto r = c.Do(
                "POST",
                "/v1/alertrules",
                json::serialize(json::object{
                    {"metadata", {{"name", fmt::format("bench-{}", k)}, {"tenant", a[3]}}},
                    {"spec",
                     {{"alert", fmt::format("Bench{}", k)},
                      {"expr", Expr(k)},
                      {"labels", {{"severity", "warning"}}}}}})
            );
            if (r.status != 201) {
                fmt::print(stderr, "rules: {} {}\n", r.status, r.body);
                return 1;
            }
        }
        return 0;
    }
    if (a.size() == 8 && a[0] == "eval") {
        return Eval(
            std::stoi(a[1]),
            std::stoi(a[2]),
            std::stoi(a[3]),
            std::stoi(a[4]),
            a[5],
            a[6],
            std::stoi(a[7])
        );
    }
    if (a.size() == 4 && a[0] == "notify") {
        return Notify(std::stoi(a[1]), a[2], a[3]);
    }
    if (a.size() == 5 && a[0] == "oom") {
        return Oom(std::stoi(a[1]), a[2], std::stoi(a[3]), std::stoi(a[4]));
    }
    fmt::print(
        stderr,
        "usage: alerting_bench rules-yaml | setup PORT TOKEN | rules PORT TOKEN TENANT | eval ... "
        "| notify PORT TOKEN TENANT | oom PORT TOKEN RUNS SMTP-PORT\n"
    );
    return 2;
}
