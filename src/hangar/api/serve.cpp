#include "hangar/api/serve.hpp"

#include <sys/stat.h>

#include <atomic>
#include <filesystem>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "hangar/api/call.hpp"
#include "hangar/api/kinds.hpp"
#include "hangar/api/resources.hpp"
#include "hangar/api/routes.hpp"
#include "hangar/api/watch_hub.hpp"
#include "hangar/auth/tokens.hpp"
#include "hangar/core/log.hpp"
#include "hangar/core/metrics.hpp"
#include "hangar/http/server.hpp"
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
        throw CLI::ValidationError("--config", fmt::format("{}: the top level must be a mapping", path));
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
        } else if (key == "changelog_keep") {
            cfg.changelog_keep = v.as<int64_t>();
        } else {
            throw CLI::ValidationError("--config", fmt::format("{}: unknown setting \"{}\"", path, key));
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
    AddResourceRoutes(router, deps, kinds, hub);
}

void AddServeCommand(CLI::App& app) {
    auto cfg = std::make_shared<ServeConfig>();
    auto config_file = std::make_shared<std::string>();
    CLI::App* serve = app.add_subcommand("serve", "Run the Hangar server");
    // The YAML file is read first so that flags and environment variables override it.
    serve->add_option("--config", *config_file, "YAML configuration file")
        ->envname("HANGAR_CONFIG")
        ->check(CLI::ExistingFile)
        ->each([cfg](const std::string& path) {
            try {
                LoadYaml(path, *cfg);
            } catch (const YAML::Exception& e) {
                throw CLI::ValidationError("--config", fmt::format("{}: {}", path, e.what()));
            }
        })
        ->trigger_on_parse();
    serve->add_option("--listen", cfg->listen, "HOST:PORT to listen on (port 0: any free port)")
        ->envname("HANGAR_LISTEN");
    serve->add_option("--data-dir", cfg->data_dir, "Folder for the embedded store and the admin token")
        ->envname("HANGAR_DATA_DIR");
    serve->add_option("--store", cfg->store, "sqlite:PATH or postgres://... (default: sqlite:<data-dir>/hangar.db)")
        ->envname("HANGAR_STORE");
    serve->add_option("--log-level", cfg->log_level, "debug, info, warn or error")
        ->envname("HANGAR_LOG_LEVEL")
        ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
    serve->add_option("--workers", cfg->workers, "Handler worker threads")
        ->envname("HANGAR_WORKERS")
        ->check(CLI::Range(1, 1024));
    serve->add_option("--io-threads", cfg->io_threads, "I/O threads (0: one per usable CPU)")
        ->envname("HANGAR_IO_THREADS")
        ->check(CLI::Range(0, 256));
    serve->add_option("--body-limit", cfg->body_limit, "Largest request body in bytes")
        ->envname("HANGAR_BODY_LIMIT")
        ->check(CLI::Range(1024, 64 << 20));
    serve->add_option("--header-timeout", cfg->header_timeout, "Time allowed to send request headers")
        ->envname("HANGAR_HEADER_TIMEOUT");
    serve->add_option("--idle-timeout", cfg->idle_timeout, "Idle keep-alive connections close after this")
        ->envname("HANGAR_IDLE_TIMEOUT");
    serve->add_option("--drain-timeout", cfg->drain_timeout, "On SIGTERM, how long in-flight requests may finish")
        ->envname("HANGAR_DRAIN_TIMEOUT");
    serve->add_option("--changelog-keep", cfg->changelog_keep, "Change-log entries kept for watch resumption")
        ->envname("HANGAR_CHANGELOG_KEEP")
        ->check(CLI::Range(int64_t{100}, int64_t{100000000}));
    serve->final_callback([cfg] { throw CLI::RuntimeError(RunServe(*cfg)); });
}

int RunServe(const ServeConfig& cfg) {
    core::LogLevel level{};
    core::ParseLogLevel(cfg.log_level, level);
    core::SetLogLevel(level);

    http::ServerOptions sopts;
    sopts.listen = cfg.listen;
    sopts.workers = cfg.workers;
    sopts.io_threads = cfg.io_threads;
    sopts.body_limit = cfg.body_limit;
    for (auto [name, text, dest] :
         {std::tuple{"--header-timeout", &cfg.header_timeout, &sopts.header_timeout},
          std::tuple{"--idle-timeout", &cfg.idle_timeout, &sopts.idle_timeout},
          std::tuple{"--drain-timeout", &cfg.drain_timeout, &sopts.drain_timeout}}) {
        auto d = ParseMillis(*text);
        if (!d || d->count() == 0) {
            fmt::print(stderr, "hangar serve: {} \"{}\": use a duration such as 500ms, 10s or 2m\n", name, *text);
            return 2;
        }
        *dest = *d;
    }

    std::error_code ec;
    std::filesystem::create_directories(cfg.data_dir, ec);
    if (ec) {
        fmt::print(stderr, "hangar serve: cannot create --data-dir {}: {}\n", cfg.data_dir, ec.message());
        return 2;
    }
    std::string url = cfg.store.empty() ? "sqlite:" + (std::filesystem::path(cfg.data_dir) / "hangar.db").string()
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
    Deps deps{store, tokens, clock};
    http::Router router;
    http::Server* server_ptr = nullptr;
    std::atomic<bool> ready{false};
    AddAllRoutes(router, deps, kinds, hub, metrics, [&] {
        return ready.load() && server_ptr != nullptr && !server_ptr->Draining();
    });

    http::Server server(sopts, router, metrics);
    server_ptr = &server;
    if (auto b = server.Bind(); !b) {
        fmt::print(stderr, "hangar serve: {}\n", b.error().message);
        return 2;
    }
    hub.Start();
    ready = true;
    core::LogInfo(
        "listening",
        {{"address", std::string_view(cfg.listen)},
         {"port", static_cast<int64_t>(server.port())},
         {"store", store.BackendName()},
         {"data_dir", std::string_view(cfg.data_dir)}}
    );
    server.Run();
    hub.Stop();
    core::LogInfo("stopped");
    return 0;
}

}  // namespace hangar::api
