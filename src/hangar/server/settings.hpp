#pragma once
// `hangar serve`'s settings, declared once: each has a name (which gives its flag --name-with-
// dashes, its variable HANGAR_NAME and its YAML key name), a type, bounds, a default and its
// help. The table feeds CLI11, the YAML file and validation; nothing else names a setting.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "hangar/core/error.hpp"

namespace hangar::server {

using Millis = std::chrono::milliseconds;

// The effective settings. No defaults here: the table holds them.
struct Config {
    std::string listen, data_dir, store, log_level;
    size_t workers = 0, io_threads = 0, body_limit = 0;
    Millis header_timeout{}, idle_timeout{}, drain_timeout{}, request_timeout{}, query_timeout{};
    size_t max_connections_per_address = 0;
    size_t json_max_depth = 0, json_max_values = 0, json_max_string = 0;
    std::vector<std::string> webhook_allow;
    int64_t changelog_keep = 0;
    double tenant_rate = 0;
    std::string provisioner;
    Millis sim_latency{}, restart_backoff{}, resync{};
    size_t controller_workers = 0;
    Millis metrics_retention{}, metrics_rollup_retention{};
    size_t metrics_max_series = 0;
    Millis self_scrape{}, slo_interval{}, rule_interval{};
    std::string remote_write_url, remote_write_token;
    std::string operator_tenant, smtp_url, smtp_from, public_url, master_key_file;
    Millis workspace_token_ttl{}, workspace_secret_ttl{};
    std::string collector_listen;
    std::string marketplace_listen;
    Millis statistics_retention{};
    Millis usage_retention{};
    double public_rate = 0;
    std::string apns_url, fcm_url, push_ca_file;
    Millis push_deadline{};
    double push_rate = 0;
    std::string invoice_issue, stripe_api_url, stripe_secret_key, stripe_webhook_secret;
    Millis payment_grace{}, billing_interval{};
};

struct Setting {
    using Target = std::variant<
        std::string Config::*,
        size_t Config::*,
        int64_t Config::*,
        double Config::*,
        Millis Config::*,
        std::vector<std::string> Config::*>;

    std::string_view name{};  // "restart_backoff"
    Target target{};
    std::string_view default_value{};  // as it would be written on the command line
    std::string_view help{};
    // Numbers: the range. Durations: the range in milliseconds (max 0: none).
    double min = 0, max = 0;
    std::vector<std::string_view> choices{};  // strings: the values allowed (empty: any)
    std::string_view example{};               // durations: "30s or 5m", for the error message
    // Strings: what is wrong with a value (nullopt: nothing), beyond `choices`.
    std::function<std::optional<std::string>(std::string_view)> check{};

    std::string Flag() const;  // --restart-backoff
    std::string Env() const;   // HANGAR_RESTART_BACKOFF
};

const std::vector<Setting>& Settings();

// Sets one setting from its text (a list setting: one element; appended). Errors say who
// gave the value (`source`: "--resync" or "hangar.yaml: resync") and what to use instead.
core::Result<void>
Assign(const Setting& s, std::string_view text, std::string_view source, Config& c);

// Every setting at its default.
Config Defaults();

// Checks that involve more than one setting.
core::Result<void> CheckTogether(const Config& c);

// Reads a YAML file of settings on top of `c`. Unknown keys and bad values are errors naming
// the file and the key.
core::Result<void> LoadYamlFile(const std::string& path, Config& c);

}  // namespace hangar::server
