#include "hangar/server/settings.hpp"

#include <cmath>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "hangar/core/clock.hpp"
#include "hangar/core/validate.hpp"

namespace hangar::server {

namespace {

using core::ErrorCode;

constexpr double kSecond = 1000;
constexpr double kHour = 3600 * kSecond;
constexpr double kUnbounded = 0;

std::optional<std::string> HttpUrlOrEmpty(std::string_view v) {
    if (v.empty() || !core::HttpUrlProblem(v)) {
        return std::nullopt;
    }
    return "use an http:// or https:// URL";
}

std::optional<std::string> ProviderUrl(std::string_view v) {
    if (!core::HttpUrlProblem(v, /*https_only=*/true)) {
        return std::nullopt;
    }
    return "providers speak HTTP/2 over TLS; use an https:// URL";
}

// Stripe over TLS; plain http only to this machine (a local fake in tests).
std::optional<std::string> StripeUrl(std::string_view v) {
    if (!core::HttpUrlProblem(v, /*https_only=*/true)) {
        return std::nullopt;
    }
    for (std::string_view local : {"http://127.", "http://localhost:", "http://[::1]:"}) {
        if (v.starts_with(local) && !core::HttpUrlProblem(v)) {
            return std::nullopt;
        }
    }
    return "use an https:// URL (plain http only to this machine)";
}

std::optional<std::string> SmtpUrlOrEmpty(std::string_view v) {
    if (v.empty() || v.starts_with("smtp://") || v.starts_with("smtps://")) {
        return std::nullopt;
    }
    return "use smtp://host:port or smtps://host:port";
}

Setting Text(
    std::string_view name,
    std::string Config::*m,
    std::string_view def,
    std::string_view help,
    std::function<std::optional<std::string>(std::string_view)> check = nullptr
) {
    return Setting{
        .name = name, .target = m, .default_value = def, .help = help, .check = std::move(check)};
}

Setting Choice(
    std::string_view name,
    std::string Config::*m,
    std::string_view def,
    std::vector<std::string_view> choices,
    std::string_view help
) {
    return Setting{
        .name = name,
        .target = m,
        .default_value = def,
        .help = help,
        .choices = std::move(choices)};
}

template <typename T>
Setting Number(
    std::string_view name,
    T Config::*m,
    std::string_view def,
    double min,
    double max,
    std::string_view help
) {
    return Setting{
        .name = name, .target = m, .default_value = def, .help = help, .min = min, .max = max};
}

Setting Duration(
    std::string_view name,
    Millis Config::*m,
    std::string_view def,
    double min_ms,
    double max_ms,
    std::string_view example,
    std::string_view help
) {
    return Setting{
        .name = name,
        .target = m,
        .default_value = def,
        .help = help,
        .min = min_ms,
        .max = max_ms,
        .example = example};
}

Setting List(std::string_view name, std::vector<std::string> Config::*m, std::string_view help) {
    return Setting{.name = name, .target = m, .default_value = "", .help = help};
}

// "250ms" besides core::ParseDuration's units.
std::optional<Millis> ParseMillis(std::string_view s) {
    if (s.size() > 2 && s.ends_with("ms")) {
        std::string_view digits = s.substr(0, s.size() - 2);
        if (digits.size() > 12 ||
            digits.find_first_not_of("0123456789") != std::string_view::npos) {
            return std::nullopt;
        }
        return Millis(std::stoll(std::string(digits)));
    }
    auto d = core::ParseDuration(s);
    if (!d) {
        return std::nullopt;
    }
    return std::chrono::duration_cast<Millis>(*d);
}

std::string SpellMillis(double ms) {
    auto whole = [&](double unit) {
        return ms >= unit && std::fmod(ms, unit) == 0;
    };
    if (whole(86400 * kSecond)) {
        return fmt::format("{}d", ms / (86400 * kSecond));
    }
    if (whole(kHour)) {
        return fmt::format("{}h", ms / kHour);
    }
    if (whole(60 * kSecond)) {
        return fmt::format("{}m", ms / (60 * kSecond));
    }
    if (whole(kSecond)) {
        return fmt::format("{}s", ms / kSecond);
    }
    return fmt::format("{}ms", ms);
}

std::string DurationAdvice(const Setting& s) {
    // min 1 ms is "any positive duration": not worth saying.
    if (s.max > 0) {
        return fmt::format(
            "use a duration from {} to {}, such as {}",
            SpellMillis(s.min),
            SpellMillis(s.max),
            s.example
        );
    }
    if (s.min > 1) {
        return fmt::format(
            "use a duration of at least {}, such as {}", SpellMillis(s.min), s.example
        );
    }
    return fmt::format("use a duration such as {}", s.example);
}

std::optional<double> ParseNumber(std::string_view text, bool integer) {
    std::string t(text);
    try {
        size_t used = 0;
        double v = integer ? static_cast<double>(std::stoll(t, &used)) : std::stod(t, &used);
        if (used != t.size() || !std::isfinite(v)) {
            return std::nullopt;
        }
        return v;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::string FormatBound(double v) {
    return std::fmod(v, 1) == 0 ? fmt::format("{:.0f}", v) : fmt::format("{}", v);
}

}  // namespace

std::string Setting::Flag() const {
    std::string f = "--" + std::string(name);
    for (char& c : f) {
        c = c == '_' ? '-' : c;
    }
    return f;
}

std::string Setting::Env() const {
    std::string e = "HANGAR_";
    for (char c : name) {
        e += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return e;
}

const std::vector<Setting>& Settings() {
    using C = Config;
    static const std::vector<Setting> kTable = {
        // The server and its store.
        Text(
            "listen", &C::listen, "127.0.0.1:8080", "HOST:PORT to listen on (port 0: any free port)"
        ),
        Text(
            "data_dir",
            &C::data_dir,
            "hangar-data",
            "Folder for the embedded store and the admin token"
        ),
        Text(
            "store",
            &C::store,
            "",
            "sqlite:PATH or postgres://... (default: sqlite:<data-dir>/hangar.db)"
        ),
        Choice(
            "log_level",
            &C::log_level,
            "info",
            {"debug", "info", "warn", "error"},
            "debug, info, warn or error"
        ),
        Number("workers", &C::workers, "64", 1, 1024, "Handler worker threads"),
        Number("io_threads", &C::io_threads, "0", 0, 256, "I/O threads (0: one per usable CPU)"),
        Number(
            "changelog_keep",
            &C::changelog_keep,
            "100000",
            100,
            1e8,
            "Change-log entries kept for watch resumption"
        ),
        // What a request may cost.
        Number(
            "body_limit", &C::body_limit, "1048576", 1024, 64 << 20, "Largest request body in bytes"
        ),
        Duration(
            "header_timeout",
            &C::header_timeout,
            "10s",
            1,
            kUnbounded,
            "10s",
            "Time allowed to send request headers"
        ),
        Duration(
            "idle_timeout",
            &C::idle_timeout,
            "30s",
            1,
            kUnbounded,
            "30s",
            "Idle keep-alive connections close after this"
        ),
        Duration(
            "drain_timeout",
            &C::drain_timeout,
            "15s",
            1,
            kUnbounded,
            "15s",
            "On SIGTERM, how long in-flight requests may finish"
        ),
        Duration(
            "request_timeout",
            &C::request_timeout,
            "30s",
            1,
            kUnbounded,
            "30s",
            "Time from a request's first byte to its last, headers and body together (408 past it)"
        ),
        Duration(
            "query_timeout",
            &C::query_timeout,
            "2m",
            1,
            kUnbounded,
            "30s or 2m",
            "A PromQL query's evaluation time (422 with errorType timeout past it)"
        ),
        Number(
            "max_connections_per_address",
            &C::max_connections_per_address,
            "256",
            1,
            1e6,
            "Open connections one client address may hold (503 past it)"
        ),
        Number(
            "json_max_depth",
            &C::json_max_depth,
            "64",
            8,
            512,
            "Request bodies: deepest nesting of arrays and objects"
        ),
        Number(
            "json_max_values",
            &C::json_max_values,
            "100000",
            100,
            1e8,
            "Request bodies: values in one JSON document"
        ),
        Number(
            "json_max_string",
            &C::json_max_string,
            "1048576",
            256,
            1 << 30,
            "Request bodies: bytes in one JSON string"
        ),
        List(
            "webhook_allow",
            &C::webhook_allow,
            "A private or loopback destination webhooks may reach (host, IP or CIDR; repeat for "
            "more)"
        ),
        Number(
            "tenant_rate",
            &C::tenant_rate,
            "1000",
            0,
            1e9,
            "Requests a second per tenant, bursts of twice that (0: unlimited)"
        ),
        // The fleet.
        Choice(
            "provisioner",
            &C::provisioner,
            "process",
            {"process", "simulated"},
            "What runs instances: process (local processes) or simulated (an in-memory cloud)"
        ),
        Duration(
            "sim_latency",
            &C::sim_latency,
            "200ms",
            0,
            kUnbounded,
            "200ms or 2s",
            "Simulated provisioner: time an instance takes to start"
        ),
        Duration(
            "restart_backoff",
            &C::restart_backoff,
            "500ms",
            1,
            kUnbounded,
            "500ms or 2s",
            "Process provisioner: wait after a crash before restarting (doubles per crash, up to "
            "60 s)"
        ),
        Duration(
            "resync",
            &C::resync,
            "5m",
            kSecond,
            kUnbounded,
            "30s or 5m",
            "Controllers re-check every object this often (besides every change)"
        ),
        Number(
            "controller_workers", &C::controller_workers, "32", 1, 256, "Instance reconcile workers"
        ),
        // The metrics store.
        Duration(
            "metrics_retention",
            &C::metrics_retention,
            "15d",
            kHour,
            kUnbounded,
            "15d",
            "Metrics store: how long samples are kept"
        ),
        Duration(
            "metrics_rollup_retention",
            &C::metrics_rollup_retention,
            "400d",
            kHour,
            kUnbounded,
            "400d",
            "Metrics store: how long 5-minute rollups are kept (no shorter than "
            "--metrics-retention)"
        ),
        Number(
            "metrics_max_series",
            &C::metrics_max_series,
            "100000",
            1,
            1e8,
            "Metrics store: active series per tenant"
        ),
        Duration(
            "self_scrape",
            &C::self_scrape,
            "15s",
            kSecond,
            kUnbounded,
            "15s",
            "How often Hangar stores its own metrics in the metrics store"
        ),
        Text(
            "remote_write_url",
            &C::remote_write_url,
            "",
            "Forward every stored sample to this Prometheus remote-write URL",
            HttpUrlOrEmpty
        ),
        Text(
            "remote_write_token", &C::remote_write_token, "", "Bearer token for --remote-write-url"
        ),
        Duration(
            "slo_interval",
            &C::slo_interval,
            "30s",
            kSecond,
            kUnbounded,
            "30s",
            "How often SLOs are evaluated (burn rates, error budgets)"
        ),
        // Alerting and on-call.
        Duration(
            "rule_interval",
            &C::rule_interval,
            "10s",
            kSecond,
            kUnbounded,
            "10s",
            "How often alert rules are evaluated"
        ),
        Text(
            "operator_tenant",
            &C::operator_tenant,
            "",
            "The cloud team's tenant (by name): its notification policy routes every tenant's "
            "alerts"
        ),
        Text(
            "smtp_url",
            &C::smtp_url,
            "",
            "SMTP server for email notifications, such as smtp://127.0.0.1:25",
            SmtpUrlOrEmpty
        ),
        Text(
            "smtp_from", &C::smtp_from, "hangar@localhost", "Sender address of notification emails"
        ),
        Text(
            "public_url",
            &C::public_url,
            "",
            "How people reach this server, for links in pages (default: http://<listen>)",
            HttpUrlOrEmpty
        ),
        // The workspace cloud services.
        Text(
            "master_key_file",
            &C::master_key_file,
            "",
            "The cloud's master key (64 hex characters; created if missing; default "
            "<data-dir>/master-key). "
            "Replicas share it"
        ),
        Duration(
            "workspace_token_ttl",
            &C::workspace_token_ttl,
            "1h",
            kSecond,
            kUnbounded,
            "1h",
            "Lifetime of workspace access tokens"
        ),
        Duration(
            "workspace_secret_ttl",
            &C::workspace_secret_ttl,
            "90d",
            kSecond,
            kUnbounded,
            "90d",
            "Lifetime of workspace client secrets"
        ),
        Text(
            "collector_listen",
            &C::collector_listen,
            "",
            "HOST:PORT where the statistics collector also answers POST / (besides /collector)"
        ),
        Text(
            "marketplace_listen",
            &C::marketplace_listen,
            "",
            "HOST:PORT where the marketplace answers at / (besides /marketplace)"
        ),
        Duration(
            "statistics_retention",
            &C::statistics_retention,
            "400d",
            kHour,
            kUnbounded,
            "400d",
            "How long statistics reports are kept"
        ),
        Duration(
            "usage_retention",
            &C::usage_retention,
            "400d",
            kHour,
            kUnbounded,
            "90d",
            "How long usage events are kept as received: a resent event (same source and id) "
            "is recognised, and a changed meter recomputed, within it; aggregated usage stays"
        ),
        Number(
            "public_rate",
            &C::public_rate,
            "10",
            0,
            1e9,
            "Unauthenticated workspace cloud calls a second per client address, bursts of twice "
            "that (0: unlimited)"
        ),
        Text(
            "apns_url",
            &C::apns_url,
            "https://api.push.apple.com",
            "APNs base URL (a push app's own url wins)",
            ProviderUrl
        ),
        Text(
            "fcm_url",
            &C::fcm_url,
            "https://fcm.googleapis.com",
            "FCM base URL (a push app's own url wins)",
            ProviderUrl
        ),
        Text(
            "push_ca_file",
            &C::push_ca_file,
            "",
            "PEM roots to trust for push providers, besides the system's"
        ),
        Duration(
            "push_deadline",
            &C::push_deadline,
            "5s",
            100,
            60 * kSecond,
            "5s",
            "How long the gateway may spend on one notification, retries included"
        ),
        Number(
            "push_rate",
            &C::push_rate,
            "100",
            0.001,
            1e9,
            "Push notifications a second per workspace, bursts of twice that"
        ),
        Choice(
            "invoice_issue",
            &C::invoice_issue,
            "auto",
            {"auto", "approval"},
            "auto: an invoice is issued when its period closes; approval: it waits as a draft "
            "for an operator's approval"
        ),
        Duration(
            "billing_interval",
            &C::billing_interval,
            "60s",
            kSecond,
            kHour,
            "1m",
            "How often billing closes the periods that ended and suspends what is overdue"
        ),
        Duration(
            "payment_grace",
            &C::payment_grace,
            "72h",
            0,
            kUnbounded,
            "72h",
            "How long a subscription may be past due before its tenant's instances are suspended"
        ),
        Text(
            "stripe_api_url",
            &C::stripe_api_url,
            "https://api.stripe.com",
            "Stripe's API base URL",
            StripeUrl
        ),
        Text(
            "stripe_secret_key",
            &C::stripe_secret_key,
            "",
            "Stripe secret key (sk_...); empty: invoices are not collected by Stripe"
        ),
        Text(
            "stripe_webhook_secret",
            &C::stripe_webhook_secret,
            "",
            "Stripe webhook endpoint secret (whsec_...) that signs POST /v1/billing/stripe/webhook"
        ),
    };
    return kTable;
}

core::Result<void>
Assign(const Setting& s, std::string_view text, std::string_view source, Config& c) {
    auto fail = [&](std::string advice) {
        return core::Fail(core::MakeError(
            ErrorCode::kInvalidArgument,
            fmt::format("{} \"{}\": {}", source, text.substr(0, 200), advice)
        ));
    };
    return std::visit(
        [&](auto member) -> core::Result<void> {
            using T = std::remove_reference_t<decltype(c.*member)>;
            if constexpr (std::is_same_v<T, std::string>) {
                if (!s.choices.empty() &&
                    std::find(s.choices.begin(), s.choices.end(), text) == s.choices.end()) {
                    return fail(fmt::format("use one of {}", fmt::join(s.choices, ", ")));
                }
                if (s.check) {
                    if (auto problem = s.check(text)) {
                        return fail(*problem);
                    }
                }
                c.*member = std::string(text);
            } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
                if (!text.empty()) {
                    (c.*member).emplace_back(text);
                }
            } else if constexpr (std::is_same_v<T, Millis>) {
                auto d = ParseMillis(text);
                if (!d || static_cast<double>(d->count()) < s.min ||
                    (s.max > 0 && static_cast<double>(d->count()) > s.max)) {
                    return fail(DurationAdvice(s));
                }
                c.*member = *d;
            } else {
                auto v = ParseNumber(text, std::is_integral_v<T>);
                if (!v || *v < s.min || *v > s.max) {
                    return fail(fmt::format(
                        "use a{} number from {} to {}",
                        std::is_integral_v<T> ? " whole" : "",
                        FormatBound(s.min),
                        FormatBound(s.max)
                    ));
                }
                c.*member = static_cast<T>(*v);
            }
            return {};
        },
        s.target
    );
}

Config Defaults() {
    Config c;
    for (const Setting& s : Settings()) {
        auto ok = Assign(s, s.default_value, s.Flag(), c);
        if (!ok) {
            throw std::logic_error("settings table: bad default: " + ok.error().message);
        }
    }
    return c;
}

core::Result<void> CheckTogether(const Config& c) {
    if (c.metrics_rollup_retention < c.metrics_retention) {
        return core::Fail(core::MakeError(
            ErrorCode::kInvalidArgument,
            "--metrics-rollup-retention: use a duration no shorter than --metrics-retention, such "
            "as 400d"
        ));
    }
    return {};
}

core::Result<void> LoadYamlFile(const std::string& path, Config& c) {
    auto fail = [&](std::string message) {
        return core::Fail(
            core::MakeError(ErrorCode::kInvalidArgument, fmt::format("{}: {}", path, message))
        );
    };
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::Exception& e) {
        return fail(e.what());
    }
    if (!root.IsMap()) {
        return fail("the top level must be a mapping");
    }
    for (auto it : root) {
        if (!it.first.IsScalar()) {
            return fail("setting names are plain words");
        }
        auto key = it.first.as<std::string>();
        const Setting* s = nullptr;
        for (const Setting& candidate : Settings()) {
            if (candidate.name == key) {
                s = &candidate;
            }
        }
        if (s == nullptr) {
            return fail(fmt::format("unknown setting \"{}\"", key));
        }
        std::string source = fmt::format("{}: {}", path, key);
        const YAML::Node& v = it.second;
        if (std::holds_alternative<std::vector<std::string> Config::*>(s->target)) {
            c.*std::get<std::vector<std::string> Config::*>(s->target) = {};
            if (v.IsScalar()) {
                if (auto ok = Assign(*s, v.Scalar(), source, c); !ok) {
                    return core::Fail(ok.error());
                }
                continue;
            }
            if (!v.IsSequence()) {
                return fail(fmt::format("{}: use a list", key));
            }
            for (const auto& e : v) {
                if (!e.IsScalar()) {
                    return fail(fmt::format("{}: use a list of strings", key));
                }
                if (auto ok = Assign(*s, e.Scalar(), source, c); !ok) {
                    return core::Fail(ok.error());
                }
            }
            continue;
        }
        if (!v.IsScalar()) {
            return fail(fmt::format("{}: use a single value", key));
        }
        if (auto ok = Assign(*s, v.Scalar(), source, c); !ok) {
            return core::Fail(ok.error());
        }
    }
    return {};
}

}  // namespace hangar::server
