// The `hangar` binary: the server (`hangar serve`) and its client, dispatched by subcommand.

#include <cstdio>

#include <CLI/CLI.hpp>

#include "hangar/cli/commands.hpp"
#include "hangar/server/serve.hpp"

int main(int argc, char** argv) {
    try {
        CLI::App app{"Hangar: the control plane for a managed cloud of application instances"};
        app.require_subcommand(1);
        app.set_version_flag("--version", "hangar 0.1.0");
        hangar::server::AddServeCommand(app);
        hangar::cli::AddClientCommands(app);
        try {
            app.parse(argc, argv);
        } catch (const CLI::RuntimeError& e) {
            return e.get_exit_code();
        } catch (const CLI::ParseError& e) {
            int code = app.exit(e);
            return code == 0 ? 0 : 1;
        }
        return 0;
    } catch (const std::exception& e) {
        // A bug or a fault nobody below could handle: say what, and exit as a software error.
        std::fprintf(stderr, "hangar: %s\n", e.what());
        return 70;
    }
}
