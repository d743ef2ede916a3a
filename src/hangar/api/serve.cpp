#include "hangar/api/serve.hpp"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <malloc.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include "hangar/alerting/dispatcher.hpp"
#include "hangar/alerting/remediator.hpp"
#include "hangar/alerting/rule_evaluator.hpp"
#include "hangar/api/call.hpp"
#include "hangar/api/kinds.hpp"
#include "hangar/api/probe_metrics.hpp"
#include "hangar/api/resources.hpp"
#include "hangar/api/routes.hpp"
#include "hangar/api/watch_hub.hpp"
#include "hangar/auth/tokens.hpp"
#include "hangar/core/destination.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/core/metrics.hpp"
#include "hangar/core/periodic.hpp"
#include "hangar/edge/collector.hpp"
#include "hangar/edge/instance_workspaces.hpp"
#include "hangar/edge/keys.hpp"
#include "hangar/edge/push.hpp"
#include "hangar/edge/routes.hpp"
#include "hangar/edge/workspaces.hpp"
#include "hangar/fleet/instance_controller.hpp"
#include "hangar/fleet/process_provisioner.hpp"
#include "hangar/fleet/rollout_controller.hpp"
#include "hangar/fleet/simulated.hpp"
#include "hangar/http/server.hpp"
#include "hangar/incidents/incidents.hpp"
#include "hangar/metrics/housekeeper.hpp"
#include "hangar/metrics/remote_write_sender.hpp"
#include "hangar/metrics/tsdb.hpp"
#include "hangar/observe/slo.hpp"
#include "hangar/oncall/notifier.hpp"
#include "hangar/oncall/pager.hpp"
#include "hangar/reconcile/controller.hpp"
#include "hangar/store/store.hpp"

namespace hangar::api {

namespace {

// Millisecond durations accept "250ms" besides the core units.
std::optional<std::chrono::milliseconds> ParseMillis(const std::string& s) {
    if (s.size() > 2 && s.ends_with("ms")) {
        try {
            size_t used = 0;
            long v = std::stol(s.substr(0, s.size() - 2), &used);
            if (used == s.size() - 2 && v >= 0) {
                return std::chrono::milliseconds(v);
            }
        } catch (const std::exception&) {
            return std::nullopt;
        }
        return std::nullopt;
    }
    auto d = core::ParseDuration(s);
    if (!d) {
        return std::nullopt;
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

// Values from a YAML file become the defaults that flags and HANGAR_* variables override.
void LoadYaml(const std::string& path, ServeConfig& cfg) {
    YAML::Node root = YAML::LoadFile(path);
    if (!root.IsMap()) {
        throw CLI::ValidationError(
            "--config", fmt::format("{}: the top level must be a mapping", path)
        );
    }
    for (auto it : root) {
        auto key = it.first.as<std::string>();
        const YAML::Node& v = it.second;
        if (key == "listen") {
            cfg.listen = v.as<std::string>();
        } else if (key == "data_dir") {
            cfg.data_dir = v.as<std::string>();
        } else if (key == "store") {
            cfg.store = v.as<std::string>();
        } else if (key == "log_level") {
            cfg.log_level = v.as<std::string>();
        } else if (key == "workers") {
            cfg.workers = v.as<size_t>();
        } else if (key == "io_threads") {
            cfg.io_threads = v.as<size_t>();
        } else if (key == "body_limit") {
            cfg.body_limit = v.as<size_t>();
        } else if (key == "header_timeout") {
            cfg.header_timeout = v.as<std::string>();
        } else if (key == "idle_timeout") {
            cfg.idle_timeout = v.as<std::string>();
        } else if (key == "drain_timeout") {
            cfg.drain_timeout = v.as<std::string>();
        } else if (key == "request_timeout") {
            cfg.request_timeout = v.as<std::string>();
        } else if (key == "query_timeout") {
            cfg.query_timeout = v.as<std::string>();
        } else if (key == "max_connections_per_address") {
            cfg.max_connections_per_address = v.as<size_t>();
        } else if (key == "json_max_depth") {
            cfg.json_max_depth = v.as<size_t>();
        } else if (key == "json_max_values") {
            cfg.json_max_values = v.as<size_t>();
        } else if (key == "json_max_string") {
            cfg.json_max_string = v.as<size_t>();
        } else if (key == "webhook_allow") {
            cfg.webhook_allow = v.as<std::vector<std::string>>();
        } else if (key == "provisioner") {
            cfg.provisioner = v.as<std::string>();
        } else if (key == "restart_backoff") {
            cfg.restart_backoff = v.as<std::string>();
        } else if (key == "sim_latency") {
            cfg.sim_latency = v.as<std::string>();
        } else if (key == "resync") {
            cfg.resync = v.as<std::string>();
        } else if (key == "controller_workers") {
            cfg.controller_workers = v.as<size_t>();
        } else if (key == "metrics_retention") {
            cfg.metrics_retention = v.as<std::string>();
        } else if (key == "metrics_rollup_retention") {
            cfg.metrics_rollup_retention = v.as<std::string>();
        } else if (key == "metrics_max_series") {
            cfg.metrics_max_series = v.as<size_t>();
        } else if (key == "self_scrape") {
            cfg.self_scrape = v.as<std::string>();
        } else if (key == "slo_interval") {
            cfg.slo_interval = v.as<std::string>();
        } else if (key == "remote_write_url") {
            cfg.remote_write_url = v.as<std::string>();
        } else if (key == "remote_write_token") {
            cfg.remote_write_token = v.as<std::string>();
        } else if (key == "rule_interval") {
            cfg.rule_interval = v.as<std::string>();
        } else if (key == "operator_tenant") {
            cfg.operator_tenant = v.as<std::string>();
        } else if (key == "smtp_url") {
            cfg.smtp_url = v.as<std::string>();
        } else if (key == "smtp_from") {
            cfg.smtp_from = v.as<std::string>();
        } else if (key == "public_url") {
            cfg.public_url = v.as<std::string>();
        } else if (key == "master_key_file") {
            cfg.master_key_file = v.as<std::string>();
        } else if (key == "workspace_token_ttl") {
            cfg.workspace_token_ttl = v.as<std::string>();
        } else if (key == "workspace_secret_ttl") {
            cfg.workspace_secret_ttl = v.as<std::string>();
        } else if (key == "collector_listen") {
            cfg.collector_listen = v.as<std::string>();
        } else if (key == "statistics_retention") {
            cfg.statistics_retention = v.as<std::string>();
        } else if (key == "public_rate") {
            cfg.public_rate = v.as<double>();
        } else if (key == "apns_url") {
            cfg.apns_url = v.as<std::string>();
        } else if (key == "fcm_url") {
            cfg.fcm_url = v.as<std::string>();
        } else if (key == "push_ca_file") {
            cfg.push_ca_file = v.as<std::string>();
        } else if (key == "push_deadline") {
            cfg.push_deadline = v.as<std::string>();
        } else if (key == "push_rate") {
            cfg.push_rate = v.as<double>();
        } else if (key == "tenant_rate") {
            cfg.tenant_rate = v.as<double>();
        } else if (key == "changelog_keep") {
            cfg.changelog_keep = v.as<int64_t>();
        } else {
            throw CLI::ValidationError(
                "--config", fmt::format("{}: unknown setting \"{}\"", path, key)
            );
        }
    }
}

}  // namespace

void AddAllRoutes(
    http::Router& router,
    Deps& deps,
    const Kinds& kinds,
    WatchHub& hub,
    core::MetricsRegistry& metrics,
    std::function<bool()> ready
) {
    AddSystemRoutes(router, deps, metrics, std::move(ready));
    AddTokenRoutes(router, deps);
    AddAuditRoutes(router, deps);
    AddMetricsRoutes(router, deps);
    AddSlaRoutes(router, deps);
    AddAlertingRoutes(router, deps);
    AddIncidentRoutes(router, deps);
    AddWorkspaceRoutes(router, deps);
    AddInstanceLogRoute(router, deps, kinds);
    AddResourceRoutes(router, deps, kinds, hub);
    AddDashboardRoutes(router);
}

void AddServeCommand(CLI::App& app) {
    auto flags = std::make_shared<ServeConfig>();
    auto config_file = std::make_shared<std::string>();
    // Each option, and how to copy its value from the flags into the effective configuration.
    auto given =
        std::make_shared<std::vector<std::pair<CLI::Option*, std::function<void(ServeConfig&)>>>>();
    CLI::App* serve = app.add_subcommand("serve", "Run the Hangar server");
    serve
        ->add_option(
            "--config", *config_file, "YAML configuration file (flags and HANGAR_* override it)"
        )
        ->envname("HANGAR_CONFIG")
        ->check(CLI::ExistingFile);
    auto add = [&](const char* name, auto member, const char* help, const char* env) {
        CLI::Option* o = serve->add_option(name, (*flags).*member, help)->envname(env);
        given->emplace_back(o, [flags, member](ServeConfig& to) { to.*member = (*flags).*member; });
        return o;
    };
    add("--listen",
        &ServeConfig::listen,
        "HOST:PORT to listen on (port 0: any free port)",
        "HANGAR_LISTEN");
    add("--data-dir",
        &ServeConfig::data_dir,
        "Folder for the embedded store and the admin token",
        "HANGAR_DATA_DIR");
    add("--store",
        &ServeConfig::store,
        "sqlite:PATH or postgres://... (default: sqlite:<data-dir>/hangar.db)",
        "HANGAR_STORE");
    add("--log-level", &ServeConfig::log_level, "debug, info, warn or error", "HANGAR_LOG_LEVEL")
        ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
    add("--workers", &ServeConfig::workers, "Handler worker threads", "HANGAR_WORKERS")
        ->check(CLI::Range(1, 1024));
    add("--io-threads",
        &ServeConfig::io_threads,
        "I/O threads (0: one per usable CPU)",
        "HANGAR_IO_THREADS")
        ->check(CLI::Range(0, 256));
    add("--body-limit",
        &ServeConfig::body_limit,
        "Largest request body in bytes",
        "HANGAR_BODY_LIMIT")
        ->check(CLI::Range(1024, 64 << 20));
    add("--header-timeout",
        &ServeConfig::header_timeout,
        "Time allowed to send request headers",
        "HANGAR_HEADER_TIMEOUT");
    add("--idle-timeout",
        &ServeConfig::idle_timeout,
        "Idle keep-alive connections close after this",
        "HANGAR_IDLE_TIMEOUT");
    add("--drain-timeout",
        &ServeConfig::drain_timeout,
        "On SIGTERM, how long in-flight requests may finish",
        "HANGAR_DRAIN_TIMEOUT");
    add("--request-timeout",
        &ServeConfig::request_timeout,
        "Time from a request's first byte to its last, headers and body together (408 past it)",
        "HANGAR_REQUEST_TIMEOUT");
    add("--query-timeout",
        &ServeConfig::query_timeout,
        "A PromQL query's evaluation time (422 with errorType timeout past it)",
        "HANGAR_QUERY_TIMEOUT");
    add("--max-connections-per-address",
        &ServeConfig::max_connections_per_address,
        "Open connections one client address may hold (503 past it)",
        "HANGAR_MAX_CONNECTIONS_PER_ADDRESS")
        ->check(CLI::Range(size_t{1}, size_t{1000000}));
    add("--json-max-depth",
        &ServeConfig::json_max_depth,
        "Request bodies: deepest nesting of arrays and objects",
        "HANGAR_JSON_MAX_DEPTH")
        ->check(CLI::Range(size_t{8}, size_t{512}));
    add("--json-max-values",
        &ServeConfig::json_max_values,
        "Request bodies: values in one JSON document",
        "HANGAR_JSON_MAX_VALUES")
        ->check(CLI::Range(size_t{100}, size_t{100000000}));
    add("--json-max-string",
        &ServeConfig::json_max_string,
        "Request bodies: bytes in one JSON string",
        "HANGAR_JSON_MAX_STRING")
        ->check(CLI::Range(size_t{256}, size_t{1} << 30));
    add("--webhook-allow",
        &ServeConfig::webhook_allow,
        "A private or loopback destination webhooks may reach (host, IP or CIDR; repeat for more)",
        "HANGAR_WEBHOOK_ALLOW")
        ->delimiter(',');
    add("--changelog-keep",
        &ServeConfig::changelog_keep,
        "Change-log entries kept for watch resumption",
        "HANGAR_CHANGELOG_KEEP")
        ->check(CLI::Range(int64_t{100}, int64_t{100000000}));
    add("--tenant-rate",
        &ServeConfig::tenant_rate,
        "Requests a second per tenant, bursts of twice that (0: unlimited)",
        "HANGAR_TENANT_RATE")
        ->check(CLI::Range(0.0, 1e9));
    add("--provisioner",
        &ServeConfig::provisioner,
        "What runs instances: process (local processes) or simulated (an in-memory cloud)",
        "HANGAR_PROVISIONER")
        ->check(CLI::IsMember({"process", "simulated"}));
    add("--restart-backoff",
        &ServeConfig::restart_backoff,
        "Process provisioner: wait after a crash before restarting (doubles per crash, up to 60 s)",
        "HANGAR_RESTART_BACKOFF");
    add("--resync",
        &ServeConfig::resync,
        "Controllers re-check every object this often (besides every change)",
        "HANGAR_RESYNC");
    add("--controller-workers",
        &ServeConfig::controller_workers,
        "Instance reconcile workers",
        "HANGAR_CONTROLLER_WORKERS")
        ->check(CLI::Range(1, 256));
    add("--metrics-retention",
        &ServeConfig::metrics_retention,
        "Metrics store: how long samples are kept",
        "HANGAR_METRICS_RETENTION");
    add("--metrics-rollup-retention",
        &ServeConfig::metrics_rollup_retention,
        "Metrics store: how long 5-minute rollups are kept",
        "HANGAR_METRICS_ROLLUP_RETENTION");
    add("--metrics-max-series",
        &ServeConfig::metrics_max_series,
        "Metrics store: active series per tenant",
        "HANGAR_METRICS_MAX_SERIES")
        ->check(CLI::Range(size_t{1}, size_t{100000000}));
    add("--self-scrape",
        &ServeConfig::self_scrape,
        "How often Hangar stores its own metrics in the metrics store",
        "HANGAR_SELF_SCRAPE");
    add("--remote-write-url",
        &ServeConfig::remote_write_url,
        "Forward every stored sample to this Prometheus remote-write URL",
        "HANGAR_REMOTE_WRITE_URL");
    add("--remote-write-token",
        &ServeConfig::remote_write_token,
        "Bearer token for --remote-write-url",
        "HANGAR_REMOTE_WRITE_TOKEN");
    add("--slo-interval",
        &ServeConfig::slo_interval,
        "How often SLOs are evaluated (burn rates, error budgets)",
        "HANGAR_SLO_INTERVAL");
    add("--rule-interval",
        &ServeConfig::rule_interval,
        "How often alert rules are evaluated",
        "HANGAR_RULE_INTERVAL");
    add("--operator-tenant",
        &ServeConfig::operator_tenant,
        "The cloud team's tenant (by name): its notification policy routes every tenant's alerts",
        "HANGAR_OPERATOR_TENANT");
    add("--smtp-url",
        &ServeConfig::smtp_url,
        "SMTP server for email notifications, such as smtp://127.0.0.1:25",
        "HANGAR_SMTP_URL");
    add("--smtp-from",
        &ServeConfig::smtp_from,
        "Sender address of notification emails",
        "HANGAR_SMTP_FROM");
    add("--public-url",
        &ServeConfig::public_url,
        "How people reach this server, for links in pages (default: http://<listen>)",
        "HANGAR_PUBLIC_URL");
    add("--master-key-file",
        &ServeConfig::master_key_file,
        "The cloud's master key (64 hex characters; created if missing; default "
        "<data-dir>/master-key). Replicas share it",
        "HANGAR_MASTER_KEY_FILE");
    add("--workspace-token-ttl",
        &ServeConfig::workspace_token_ttl,
        "Lifetime of workspace access tokens",
        "HANGAR_WORKSPACE_TOKEN_TTL");
    add("--workspace-secret-ttl",
        &ServeConfig::workspace_secret_ttl,
        "Lifetime of workspace client secrets",
        "HANGAR_WORKSPACE_SECRET_TTL");
    add("--collector-listen",
        &ServeConfig::collector_listen,
        "HOST:PORT where the statistics collector also answers POST / (besides /collector)",
        "HANGAR_COLLECTOR_LISTEN");
    add("--statistics-retention",
        &ServeConfig::statistics_retention,
        "How long statistics reports are kept",
        "HANGAR_STATISTICS_RETENTION");
    add("--public-rate",
        &ServeConfig::public_rate,
        "Unauthenticated workspace cloud calls a second per client address, bursts of twice that "
        "(0: unlimited)",
        "HANGAR_PUBLIC_RATE")
        ->check(CLI::Range(0.0, 1e9));
    add("--apns-url",
        &ServeConfig::apns_url,
        "APNs base URL (a push app's own url wins)",
        "HANGAR_APNS_URL");
    add("--fcm-url",
        &ServeConfig::fcm_url,
        "FCM base URL (a push app's own url wins)",
        "HANGAR_FCM_URL");
    add("--push-ca-file",
        &ServeConfig::push_ca_file,
        "PEM roots to trust for push providers, besides the system's",
        "HANGAR_PUSH_CA_FILE");
    add("--push-deadline",
        &ServeConfig::push_deadline,
        "How long the gateway may spend on one notification, retries included",
        "HANGAR_PUSH_DEADLINE");
    add("--push-rate",
        &ServeConfig::push_rate,
        "Push notifications a second per workspace, bursts of twice that",
        "HANGAR_PUSH_RATE")
        ->check(CLI::Range(0.001, 1e9));
    add("--sim-latency",
        &ServeConfig::sim_latency,
        "Simulated provisioner: time an instance takes to start",
        "HANGAR_SIM_LATENCY");
    serve->final_callback([flags, config_file, given] {
        ServeConfig cfg = *flags;
        if (!config_file->empty()) {
            cfg = ServeConfig{};
            try {
                LoadYaml(*config_file, cfg);
            } catch (const YAML::Exception& e) {
                fmt::print(stderr, "hangar serve: {}: {}\n", *config_file, e.what());
                throw CLI::RuntimeError(2);
            } catch (const CLI::ValidationError& e) {
                fmt::print(stderr, "hangar serve: {}\n", e.what());
                throw CLI::RuntimeError(2);
            }
            for (const auto& [opt, copy] : *given) {
                if (opt->count() > 0) {
                    copy(cfg);
                }
            }
        }
        throw CLI::RuntimeError(RunServe(cfg));
    });
}

int RunServe(const ServeConfig& cfg) {
    // A peer that hangs up must cost a write its EPIPE, not the server: OpenSSL writes to push
    // providers with plain write(2). Instances get the default back before exec; the client
    // commands keep it, so `hangar get ... | head` ends quietly.
    std::signal(SIGPIPE, SIG_IGN);
    // Request bursts allocate and free a lot; without this glibc trims and regrows its heap
    // (madvise/brk) every few milliseconds.
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    mallopt(M_MMAP_THRESHOLD, 16 << 20);
    // Start-up lines (where the admin token is, where we listen) are logged whatever the
    // level; the configured level applies from then on.
    core::LogLevel level{};
    core::ParseLogLevel(cfg.log_level, level);
    core::SetLogLevel(std::min(level, core::LogLevel::kInfo));

    http::ServerOptions sopts;
    sopts.listen = cfg.listen;
    sopts.workers = cfg.workers;
    sopts.io_threads = cfg.io_threads;
    sopts.body_limit = cfg.body_limit;
    sopts.max_connections_per_address = cfg.max_connections_per_address;
    core::SetJsonLimits(core::JsonLimits{
        cfg.json_max_depth, cfg.json_max_values, cfg.json_max_string, true});
    auto destinations = core::DestinationPolicy::Make(cfg.webhook_allow);
    if (!destinations) {
        fmt::print(stderr, "hangar serve: {}\n", destinations.error().message);
        return 2;
    }
    core::DestinationPolicy::SetGlobal(std::move(*destinations));
    for (auto [name, text, dest] :
         {std::tuple{"--header-timeout", &cfg.header_timeout, &sopts.header_timeout},
          std::tuple{"--idle-timeout", &cfg.idle_timeout, &sopts.idle_timeout},
          std::tuple{"--drain-timeout", &cfg.drain_timeout, &sopts.drain_timeout},
          std::tuple{"--request-timeout", &cfg.request_timeout, &sopts.request_timeout}}) {
        auto d = ParseMillis(*text);
        if (!d || d->count() == 0) {
            fmt::print(
                stderr,
                "hangar serve: {} \"{}\": use a duration such as 500ms, 10s or 2m\n",
                name,
                *text
            );
            return 2;
        }
        *dest = *d;
    }

    // Every tenant's data is in here: nobody but this user reads it, whatever the umask was.
    // (Instances get the usual 022 back before exec.)
    ::umask(077);
    std::error_code ec;
    std::filesystem::create_directories(cfg.data_dir, ec);
    if (ec) {
        fmt::print(
            stderr, "hangar serve: cannot create --data-dir {}: {}\n", cfg.data_dir, ec.message()
        );
        return 2;
    }
    std::filesystem::permissions(cfg.data_dir, std::filesystem::perms::owner_all, ec);
    for (const char* f :
         {"hangar.db", "hangar.db-wal", "hangar.db-shm", "admin-token", "master-key"}) {
        std::filesystem::path p = std::filesystem::path(cfg.data_dir) / f;
        if (std::filesystem::exists(p, ec)) {  // made by an older Hangar with the umask's modes
            std::filesystem::permissions(
                p, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec
            );
        }
    }
    std::string url = cfg.store.empty()
                          ? "sqlite:" + (std::filesystem::path(cfg.data_dir) / "hangar.db").string()
                          : cfg.store;
    store::StoreOptions stopts;
    stopts.changelog_keep = cfg.changelog_keep;
    stopts.compact_every = std::clamp<int64_t>(cfg.changelog_keep / 10, 1, 1024);
    stopts.readers = std::max<size_t>(4, std::min<size_t>(cfg.workers, 16));
    auto st = store::Store::Open(url, stopts);
    if (!st) {
        fmt::print(stderr, "hangar serve: {}\n", st.error().message);
        return 2;
    }
    store::Store& store = **st;

    core::MetricsRegistry metrics;
    auto& store_seconds = metrics.Histogram(
        "hangar_store_operation_duration_seconds",
        "Store operations by kind of operation.",
        {"op"},
        core::LatencyBuckets()
    );
    store.SetTimer([&store_seconds](std::string_view op, double s) {
        store_seconds.Observe({std::string(op)}, s);
    });

    core::SystemClock clock;
    auth::TokenService tokens(store, clock);
    std::string admin_path = (std::filesystem::path(cfg.data_dir) / "admin-token").string();
    const char* bootstrap = std::getenv("HANGAR_BOOTSTRAP_TOKEN");  // NOLINT(concurrency-mt-unsafe)
    auto boot = tokens.Bootstrap(bootstrap != nullptr ? bootstrap : "", admin_path);
    if (!boot) {
        fmt::print(stderr, "hangar serve: bootstrap: {}\n", boot.error().message);
        return 2;
    }
    core::LogInfo(*boot);

    WatchHub hub(store);
    store.OnCommitted([&hub] { hub.Wake(); });
    Kinds kinds;
    AddBuiltinKinds(kinds);
    AddFleetKinds(kinds, store);
    AddObserveKinds(kinds);
    AddAlertingKinds(kinds);
    auto sim_latency = ParseMillis(cfg.sim_latency);
    if (!sim_latency) {
        fmt::print(
            stderr,
            "hangar serve: --sim-latency \"{}\": use a duration such as 200ms or 2s\n",
            cfg.sim_latency
        );
        return 2;
    }
    std::unique_ptr<fleet::Provisioner> provisioner;
    if (cfg.provisioner == "simulated") {
        provisioner = std::make_unique<fleet::SimulatedProvisioner>(fleet::SimulatedOptions{
            *sim_latency, 0, 1000000});
    } else {
        fleet::ProcessOptions popts;
        popts.root = (std::filesystem::path(cfg.data_dir) / "instances").string();
        popts.backup_root = (std::filesystem::path(cfg.data_dir) / "backups").string();
        // Sample products (hangar-workspace) are installed beside the hangar binary.
        popts.extra_path = std::filesystem::canonical("/proc/self/exe").parent_path().string();
        auto backoff = ParseMillis(cfg.restart_backoff);
        if (!backoff || backoff->count() == 0) {
            fmt::print(
                stderr,
                "hangar serve: --restart-backoff \"{}\": use a duration such as 500ms or 2s\n",
                cfg.restart_backoff
            );
            return 2;
        }
        popts.restart_backoff = *backoff;
        provisioner = std::make_unique<fleet::ProcessProvisioner>(popts);
    }
    auto& oom_kills = metrics.Counter(
        "hangar_instance_oom_kills_total",
        "Instances killed at their memory limit.",
        {"tenant", "instance", "product"}
    );
    auto resync = ParseMillis(cfg.resync);
    if (!resync || resync->count() < 1000) {
        fmt::print(
            stderr,
            "hangar serve: --resync \"{}\": use a duration of at least 1s, such as 30s or 5m\n",
            cfg.resync
        );
        return 2;
    }
    auto& phases = metrics.Gauge(
        "hangar_instances", "Instances by the phase their controller last saw.", {"phase"}
    );
    auto& reconciles = metrics.Counter(
        "hangar_reconciles_total",
        "Reconcile calls by controller and result (ok, error).",
        {"controller", "result"}
    );
    fleet::InstanceController instances(store, *provisioner, clock, &oom_kills, &phases);
    reconcile::Controller instance_loop(
        store,
        reconcile::ControllerOptions{
            "instance", cfg.controller_workers, *resync, {"Instance"}, &reconciles},
        [&instances](const std::string& id) { return instances.Reconcile(id); },
        [&instances] { return instances.List(); }
    );
    fleet::RolloutController rollouts(store, clock);
    reconcile::Controller rollout_loop(
        store,
        reconcile::ControllerOptions{"rollout", 2, *resync, {"Rollout"}, &reconciles},
        [&rollouts](const std::string& id) { return rollouts.Reconcile(id); },
        [&rollouts] { return rollouts.List(); }
    );
    store.OnCommitted([&instance_loop, &rollout_loop] {
        instance_loop.Wake();
        rollout_loop.Wake();
    });
    auto retention = ParseMillis(cfg.metrics_retention);
    if (!retention || retention->count() < 3'600'000) {
        fmt::print(
            stderr,
            "hangar serve: --metrics-retention \"{}\": use a duration of at least 1h, such as "
            "15d\n",
            cfg.metrics_retention
        );
        return 2;
    }
    auto rollup_retention = ParseMillis(cfg.metrics_rollup_retention);
    if (!rollup_retention || *rollup_retention < *retention) {
        fmt::print(
            stderr,
            "hangar serve: --metrics-rollup-retention \"{}\": use a duration no shorter than "
            "--metrics-retention, such as 400d\n",
            cfg.metrics_rollup_retention
        );
        return 2;
    }
    auto self_scrape = ParseMillis(cfg.self_scrape);
    if (!self_scrape || self_scrape->count() < 1000) {
        fmt::print(
            stderr,
            "hangar serve: --self-scrape \"{}\": use a duration of at least 1s, such as 15s\n",
            cfg.self_scrape
        );
        return 2;
    }
    metrics::TsdbOptions mopts;
    mopts.dir = (std::filesystem::path(cfg.data_dir) / "metrics").string();
    mopts.retention_ms = retention->count();
    mopts.rollup_retention_ms = rollup_retention->count();
    mopts.max_series_per_tenant = cfg.metrics_max_series;
    auto tsdb = metrics::Tsdb::Open(mopts);
    if (!tsdb) {
        fmt::print(stderr, "hangar serve: metrics store: {}\n", tsdb.error().message);
        return 2;
    }
    std::unique_ptr<metrics::RemoteWriteSender> forward;
    if (!cfg.remote_write_url.empty()) {
        if (!cfg.remote_write_url.starts_with("http://") &&
            !cfg.remote_write_url.starts_with("https://")) {
            fmt::print(
                stderr,
                "hangar serve: --remote-write-url \"{}\": use an http:// or https:// URL\n",
                cfg.remote_write_url
            );
            return 2;
        }
        forward = std::make_unique<metrics::RemoteWriteSender>(metrics::RemoteWriteOptions{
            .url = cfg.remote_write_url, .bearer_token = cfg.remote_write_token});
        (*tsdb)->SetAppendObserver([s = forward.get()](
                                       std::string_view tenant,
                                       std::span<const metrics::LabelView> l,
                                       std::span<const metrics::Sample> v
                                   ) { s->Enqueue(tenant, l, v); });
        forward->Start();
    }
    metrics::Housekeeper housekeeper(**tsdb, metrics, clock, *self_scrape, cfg.listen);

    instances.SetProbeSink(ProbeMetricsSink(**tsdb));
    auto slo_interval = ParseMillis(cfg.slo_interval);
    if (!slo_interval || slo_interval->count() < 1000) {
        fmt::print(
            stderr,
            "hangar serve: --slo-interval \"{}\": use a duration of at least 1s, such as 30s\n",
            cfg.slo_interval
        );
        return 2;
    }
    observe::SloEvaluator slos(store, **tsdb, clock, *slo_interval);
    auto rule_interval = ParseMillis(cfg.rule_interval);
    if (!rule_interval || rule_interval->count() < 1000) {
        fmt::print(
            stderr,
            "hangar serve: --rule-interval \"{}\": use a duration of at least 1s, such as 10s\n",
            cfg.rule_interval
        );
        return 2;
    }
    if (!cfg.smtp_url.empty() && !cfg.smtp_url.starts_with("smtp://") &&
        !cfg.smtp_url.starts_with("smtps://")) {
        fmt::print(
            stderr,
            "hangar serve: --smtp-url \"{}\": use smtp://host:port or smtps://host:port\n",
            cfg.smtp_url
        );
        return 2;
    }
    oncall::Notifier notifier(
        oncall::NotifierOptions{.smtp_url = cfg.smtp_url, .smtp_from = cfg.smtp_from}, &metrics
    );
    std::string public_url = cfg.public_url.empty() ? "http://" + cfg.listen : cfg.public_url;
    while (public_url.ends_with('/')) {
        public_url.pop_back();
    }
    oncall::Pager pager(store, notifier, clock, public_url);
    incidents::Incidents incidents(store, tsdb->get(), clock, cfg.operator_tenant);
    pager.SetOnOpened([&incidents](const store::Object& page) { incidents.DeclareFromPage(page); });
    notifier.SetOutcome([&pager](const oncall::Message& m, bool ok, const std::string& detail) {
        pager.RecordOutcome(m, ok, detail);
    });
    pager.Load();
    alerting::Dispatcher dispatcher(
        store,
        pager,
        notifier,
        clock,
        alerting::DispatcherOptions{.operator_tenant = cfg.operator_tenant}
    );
    alerting::Remediator remediator(
        store,
        clock,
        [&instances, &provisioner](const store::Object& ins, const std::vector<std::string>& argv) {
            return provisioner->Exec(instances.DesiredFor(ins), argv);
        }
    );
    dispatcher.SetRemediator(&remediator);
    alerting::RuleEvaluator rules(
        store,
        **tsdb,
        clock,
        *rule_interval,
        [&dispatcher](std::vector<alerting::Alert> a) { dispatcher.Receive(std::move(a)); }
    );
    rules.SetMetrics(metrics);

    // The workspace cloud services.
    std::string key_path = cfg.master_key_file.empty()
                               ? (std::filesystem::path(cfg.data_dir) / "master-key").string()
                               : cfg.master_key_file;
    if (cfg.master_key_file.empty()) {
        core::LogWarn(
            "the master key lives beside the data: a copy of the data folder (a backup) then "
            "carries the key that opens "
            "its secrets; keep it elsewhere with --master-key-file",
            {{"master_key", std::string_view(key_path)}}
        );
    }
    auto keys = edge::CloudKeys::LoadOrCreate(key_path);
    if (!keys) {
        fmt::print(stderr, "hangar serve: --master-key-file: {}\n", keys.error().message);
        return 2;
    }
    edge::WorkspaceOptions wopts;
    wopts.base_url = public_url;
    for (auto [name, text, dest] :
         {std::tuple{"--workspace-token-ttl", &cfg.workspace_token_ttl, &wopts.access_token_ttl},
          std::tuple{"--workspace-secret-ttl", &cfg.workspace_secret_ttl, &wopts.secret_ttl}}) {
        auto d = core::ParseDuration(*text);
        if (!d || d->count() < 1) {
            fmt::print(
                stderr, "hangar serve: {} \"{}\": use a duration such as 1h or 90d\n", name, *text
            );
            return 2;
        }
        *dest = *d;
    }
    auto stats_retention = core::ParseDuration(cfg.statistics_retention);
    if (!stats_retention || stats_retention->count() < 3600) {
        fmt::print(
            stderr,
            "hangar serve: --statistics-retention \"{}\": use a duration of at least 1h, such as "
            "400d\n",
            cfg.statistics_retention
        );
        return 2;
    }
    AddEdgeKinds(kinds, *keys);
    auto push_deadline = ParseMillis(cfg.push_deadline);
    if (!push_deadline || push_deadline->count() < 100 || push_deadline->count() > 60000) {
        fmt::print(
            stderr,
            "hangar serve: --push-deadline \"{}\": use a duration from 100ms to 60s, such as 5s\n",
            cfg.push_deadline
        );
        return 2;
    }
    for (auto [name, url] :
         {std::pair{"--apns-url", &cfg.apns_url}, std::pair{"--fcm-url", &cfg.fcm_url}}) {
        if (!url->starts_with("https://")) {
            fmt::print(
                stderr,
                "hangar serve: {} \"{}\": providers speak HTTP/2 over TLS; use an https:// URL\n",
                name,
                *url
            );
            return 2;
        }
    }
    edge::Workspaces workspaces(store, *keys, clock, wopts);
    workspaces.SetOnSync([&clock, db = tsdb->get()](const store::Object& ws) {
        edge::RecordWorkspaceSeries(*db, ws, core::UnixMillis(clock.Now()));
    });
    // Instances of products with a "workspace" block get a Workspace and start registered-to-be.
    edge::InstanceWorkspaces instance_workspaces(store, workspaces, clock);
    instances.SetHooks(fleet::InstanceController::Hooks{
        .prepare = [&instance_workspaces](const store::Object& ins, fleet::Desired& want)
            -> core::Result<void> {
            if (!want.workspace) {
                return {};
            }
            auto env = instance_workspaces.Prepare(ins, *want.workspace);
            if (!env) {
                return core::Fail(env.error());
            }
            want.env = std::move(*env);
            return {};
        },
        .release = [&instance_workspaces](const store::Object& ins
                   ) { return instance_workspaces.Release(ins); },
    });
    edge::Collector collector(
        store,
        *keys,
        clock,
        tsdb->get(),
        edge::CollectorOptions{.retention = *stats_retention, .max_document = cfg.body_limit}
    );
    core::Periodic statistics_sweep(std::chrono::hours(1), [&collector] {
        if (size_t n = collector.Sweep(); n > 0) {
            core::LogInfo("statistics retention", {{"deleted", static_cast<int64_t>(n)}});
        }
    });
    core::RateLimiter public_limiter(cfg.public_rate, cfg.public_rate * 2);
    edge::PushGateway push(
        store,
        workspaces,
        *keys,
        clock,
        &metrics,
        tsdb->get(),
        edge::PushOptions{
            .apns_url = cfg.apns_url,
            .fcm_url = cfg.fcm_url,
            .ca_file = cfg.push_ca_file,
            .deadline = *push_deadline,
            .rate = cfg.push_rate,
            .operator_tenant = cfg.operator_tenant}
    );
    edge::EdgeDeps edge_deps{workspaces, collector, &public_limiter, &push};

    core::RateLimiter limiter(cfg.tenant_rate, cfg.tenant_rate * 2);
    auto query_timeout = ParseMillis(cfg.query_timeout);
    if (!query_timeout || query_timeout->count() == 0) {
        fmt::print(
            stderr,
            "hangar serve: --query-timeout \"{}\": use a duration such as 30s or 2m\n",
            cfg.query_timeout
        );
        return 2;
    }
    Deps deps{
        store,
        tokens,
        clock,
        &limiter,
        provisioner.get(),
        tsdb->get(),
        &dispatcher,
        &pager,
        &remediator,
        &incidents,
        &workspaces,
        &collector,
        *query_timeout};
    http::Router router;
    http::Server* server_ptr = nullptr;
    std::atomic<bool> ready{false};
    AddAllRoutes(router, deps, kinds, hub, metrics, [&] {
        return ready.load() && server_ptr != nullptr && !server_ptr->Draining();
    });
    edge::AddWorkspaceCloudRoutes(router, edge_deps);

    http::Server server(sopts, router, metrics);
    server_ptr = &server;
    if (auto b = server.Bind(); !b) {
        fmt::print(stderr, "hangar serve: {}\n", b.error().message);
        return 2;
    }
    if (cfg.public_url.empty()) {
        workspaces.SetBaseUrl(
            fmt::format("http://{}:{}", cfg.listen.substr(0, cfg.listen.rfind(':')), server.port())
        );
    }
    // The collector on a listener of its own, for servers whose collector URL is a bare host.
    std::unique_ptr<http::Server> collector_server;
    http::Router collector_router;
    std::thread collector_thread;
    if (!cfg.collector_listen.empty()) {
        edge::AddCollectorRootRoute(collector_router, edge_deps);
        http::ServerOptions copts = sopts;
        copts.listen = cfg.collector_listen;
        copts.io_threads = 1;
        collector_server = std::make_unique<http::Server>(copts, collector_router, metrics);
        if (auto b = collector_server->Bind(); !b) {
            fmt::print(stderr, "hangar serve: --collector-listen: {}\n", b.error().message);
            return 2;
        }
        core::LogInfo(
            "collector listening",
            {{"address", std::string_view(cfg.collector_listen)},
             {"port", static_cast<int64_t>(collector_server->port())}}
        );
        collector_thread = std::thread([&collector_server] { collector_server->Run(); });
    }
    statistics_sweep.Start();
    collector.Start();
    push.RunOn(server.io_context());
    push.Start();
    hub.Start();
    instance_loop.Start();
    rollout_loop.Start();
    housekeeper.Start();
    slos.Start();
    notifier.Start();
    remediator.Start();
    dispatcher.Start();
    rules.Start();
    ready = true;
    core::LogInfo(
        "listening",
        {{"address", std::string_view(cfg.listen)},
         {"port", static_cast<int64_t>(server.port())},
         {"store", store.BackendName()},
         {"data_dir", std::string_view(cfg.data_dir)}}
    );
    core::SetLogLevel(level);
    server.Run();
    if (collector_server) {
        collector_server->Stop();
        collector_thread.join();
    }
    statistics_sweep.Stop();
    collector.Stop();
    push.Stop();
    rules.Stop();
    dispatcher.Stop();
    remediator.Stop();
    notifier.Stop();
    slos.Stop();
    housekeeper.Stop();
    if (forward) {
        forward->Stop();
    }
    rollout_loop.Stop();  // each finishes the step it is in
    instance_loop.Stop();
    hub.Stop();
    core::LogInfo("stopped");
    return 0;
}

}  // namespace hangar::api
