#pragma once
// `hangar serve`: the settings table on the command line, then every module wired together
// and run until SIGTERM.

#include <CLI/CLI.hpp>

#include "hangar/server/settings.hpp"

namespace hangar::server {

// Registers the `serve` subcommand; its callback runs the server and exits with its code.
void AddServeCommand(CLI::App& app);
int RunServe(const Config& cfg);

}  // namespace hangar::server
