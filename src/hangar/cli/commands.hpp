#pragma once
// Client subcommands: tenant, token, get, delete, audit. Each has -o json|yaml and exits with a
// code that means something (core::ExitCode; 2 when the server cannot be reached).

#include <CLI/CLI.hpp>

namespace hangar::cli {

void AddClientCommands(CLI::App& app);

}  // namespace hangar::cli
