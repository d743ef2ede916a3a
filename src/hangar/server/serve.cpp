#include "hangar/server/serve.hpp"

#include <csignal>
#include <map>

#include <fmt/format.h>
#include <malloc.h>

#include "hangar/core/destination.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/server/assembly.hpp"

namespace hangar::server {

namespace {

// Process-wide settings, applied before anything is built.
core::Result<void> ApplyProcessSettings(const Config& cfg) {
    // A peer that hangs up must cost a write its EPIPE, not the server: OpenSSL writes to push
    // providers with plain write(2). Instances get the default back before exec; the client
    // commands keep it, so `hangar get ... | head` ends quietly.
    std::signal(SIGPIPE, SIG_IGN);
    // Request bursts allocate and free a lot; without this glibc trims and regrows its heap
    // (madvise/brk) every few milliseconds.
    // Before any thread starts, so mallopt's lack of thread safety does not matter.
    mallopt(M_TRIM_THRESHOLD, 256 << 20);  // NOLINT(concurrency-mt-unsafe)
    mallopt(M_TOP_PAD, 16 << 20);          // NOLINT(concurrency-mt-unsafe)
    mallopt(M_MMAP_THRESHOLD, 16 << 20);   // NOLINT(concurrency-mt-unsafe)
    // Start-up lines (where the admin token is, where we listen) are logged whatever the
    // level; the configured level applies once the server listens.
    core::LogLevel level{};
    core::ParseLogLevel(cfg.log_level, level);
    core::SetLogLevel(std::min(level, core::LogLevel::kInfo));
    core::SetJsonLimits(core::JsonLimits{
        cfg.json_max_depth, cfg.json_max_values, cfg.json_max_string, true});
    auto destinations = core::DestinationPolicy::Make(cfg.webhook_allow);
    if (!destinations) {
        return core::Fail(core::MakeError(
            destinations.error().code, "--webhook-allow: " + destinations.error().message
        ));
    }
    core::DestinationPolicy::SetGlobal(std::move(*destinations));
    return {};
}

}  // namespace

void AddServeCommand(CLI::App& app) {
    // Each setting's raw text as CLI11 read it (from its flag or its variable).
    auto raw = std::make_shared<std::map<std::string, std::vector<std::string>>>();
    auto options = std::make_shared<std::vector<std::pair<const Setting*, CLI::Option*>>>();
    auto config_file = std::make_shared<std::string>();
    CLI::App* serve = app.add_subcommand("serve", "Run the Hangar server");
    serve
        ->add_option(
            "--config", *config_file, "YAML configuration file (flags and HANGAR_* override it)"
        )
        ->envname("HANGAR_CONFIG")
        ->check(CLI::ExistingFile);
    for (const Setting& s : Settings()) {
        auto& target = (*raw)[std::string(s.name)];
        bool list = std::holds_alternative<std::vector<std::string> Config::*>(s.target);
        CLI::Option* o = serve->add_option(s.Flag(), target, std::string(s.help))->envname(s.Env());
        if (list) {
            o->delimiter(',');
        } else {
            o->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
        }
        if (!s.default_value.empty()) {
            o->default_str(std::string(s.default_value));
        }
        options->emplace_back(&s, o);
    }
    serve->final_callback([raw, options, config_file] {
        auto fail = [](const core::Error& e) {
            fmt::print(stderr, "hangar serve: {}\n", e.message);
            throw CLI::RuntimeError(2);
        };
        // Defaults, then the file, then flags and HANGAR_* variables.
        Config cfg = Defaults();
        if (!config_file->empty()) {
            if (auto ok = LoadYamlFile(*config_file, cfg); !ok) {
                fail(ok.error());
            }
        }
        for (const auto& [s, opt] : *options) {
            if (opt->count() == 0) {
                continue;
            }
            if (auto* list = std::get_if<std::vector<std::string> Config::*>(&s->target)) {
                cfg.** list = {};
            }
            for (const std::string& text : (*raw)[std::string(s->name)]) {
                if (auto ok = Assign(*s, text, s->Flag(), cfg); !ok) {
                    fail(ok.error());
                }
            }
        }
        if (auto ok = CheckTogether(cfg); !ok) {
            fail(ok.error());
        }
        throw CLI::RuntimeError(RunServe(cfg));
    });
}

int RunServe(const Config& cfg) {
    if (auto ok = ApplyProcessSettings(cfg); !ok) {
        fmt::print(stderr, "hangar serve: {}\n", ok.error().message);
        return 2;
    }
    auto assembly = Assembly::Build(cfg);
    if (!assembly) {
        fmt::print(stderr, "hangar serve: {}\n", assembly.error().message);
        return 2;
    }
    return (*assembly)->Run();
}

}  // namespace hangar::server
