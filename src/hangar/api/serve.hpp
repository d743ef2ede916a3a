#pragma once
// `hangar serve`: configuration and the assembled server.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace hangar::api {

struct ServeConfig {
    std::string listen = "127.0.0.1:8080";
    std::string data_dir = "hangar-data";
    std::string store;  // default: sqlite:<data_dir>/hangar.db
    std::string log_level = "info";
    size_t workers = 64;
    size_t io_threads = 0;
    size_t body_limit = 1 << 20;
    std::string header_timeout = "10s";
    std::string idle_timeout = "30s";
    std::string drain_timeout = "15s";
    std::string request_timeout = "30s";  // a request's first byte to its last
    std::string query_timeout = "2m";     // a PromQL query's evaluation time (422 timeout past it)
    size_t max_connections_per_address = 256;  // open connections from one client address
    size_t json_max_depth = 64;                // request bodies: nesting
    size_t json_max_values = 100000;           // request bodies: values in one document
    size_t json_max_string = 1 << 20;          // request bodies: bytes in one string
    std::vector<std::string>
        webhook_allow;  // destinations webhooks may reach despite being private (host, IP or CIDR)
    int64_t changelog_keep = 100000;
    double tenant_rate = 1000;              // requests a second per tenant (0: unlimited)
    std::string provisioner = "process";    // process (local processes) or simulated
    std::string sim_latency = "200ms";      // how long a simulated instance takes to start
    std::string restart_backoff = "500ms";  // process provisioner: first wait after a crash
    std::string resync = "5m";              // controllers re-queue every object this often
    size_t controller_workers = 32;  // instance reconcile workers (writes wait on group commit)
    std::string metrics_retention = "15d";          // raw samples are kept this long
    std::string metrics_rollup_retention = "400d";  // 5-minute rollups are kept this long
    size_t metrics_max_series = 100000;             // active series per tenant
    std::string self_scrape = "15s";                // how often Hangar stores its own /metrics
    std::string slo_interval = "30s";               // how often SLOs are evaluated
    std::string remote_write_url;                   // forward every accepted sample here ("" = no)
    std::string remote_write_token;                 // bearer token for it
    std::string rule_interval = "10s";              // how often alert rules are evaluated
    std::string operator_tenant;  // the cloud team's tenant: its routing sees every tenant's alerts
    std::string smtp_url;         // smtp://host:port for email notifications
    std::string smtp_from = "hangar@localhost";
    std::string
        public_url;  // how people reach this server (links in pages); default http://<listen>
    std::string master_key_file;  // the cloud's master key; default <data_dir>/master-key
    std::string workspace_token_ttl = "1h";    // workspace access tokens
    std::string workspace_secret_ttl = "90d";  // workspace client secrets
    std::string collector_listen;  // HOST:PORT for the collector's own listener ("" = none)
    std::string statistics_retention = "400d";
    double public_rate = 10;  // unauthenticated cloud calls a second per client address
    std::string apns_url = "https://api.push.apple.com";
    std::string fcm_url = "https://fcm.googleapis.com";
    std::string push_ca_file;          // extra trusted roots for provider connections
    std::string push_deadline = "5s";  // a notification's time in the gateway, retries included
    double push_rate = 100;            // notifications a second per workspace
};

// Registers the `serve` subcommand; its callback runs the server and exits with its code.
void AddServeCommand(CLI::App& app);
int RunServe(const ServeConfig& cfg);

}  // namespace hangar::api
