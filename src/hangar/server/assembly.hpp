#pragma once
// Everything `hangar serve` runs, built from its settings: the store, the kind registry filled
// by each module, the controllers and background services (in the runtime, which starts them
// in order and stops them in reverse), and the HTTP router with every route.

#include <memory>

#include "hangar/core/error.hpp"
#include "hangar/http/router.hpp"
#include "hangar/registry/registry.hpp"
#include "hangar/server/runtime.hpp"
#include "hangar/server/settings.hpp"

namespace hangar::server {

class Assembly {
public:
    // Opens the data folder and the store and builds every part; nothing runs yet. Errors are
    // the user's (a bad store URL, an unreadable key file) and say what to fix.
    static core::Result<std::unique_ptr<Assembly>> Build(const Config& cfg);
    ~Assembly();

    const registry::Registry& kinds() const;
    http::Router& router();
    // Binds, starts the services, serves until SIGTERM or SIGINT, then drains and stops.
    // Returns the process exit code.
    int Run();

private:
    struct Parts;
    explicit Assembly(std::unique_ptr<Parts> parts);
    std::unique_ptr<Parts> p_;
};

}  // namespace hangar::server
