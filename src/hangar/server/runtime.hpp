#pragma once
// The services of a running server, started in the order they were added and stopped in the
// reverse order, by construction: a service starts after what it uses and stops before it.

#include <functional>
#include <string>
#include <vector>

namespace hangar::server {

class Runtime {
public:
    Runtime() = default;
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;
    ~Runtime() { Stop(); }

    void Add(std::string name, std::function<void()> start, std::function<void()> stop);
    // A service with Start() and Stop().
    template <typename S>
    void Add(std::string name, S& service) {
        Add(
            std::move(name), [&service] { service.Start(); }, [&service] { service.Stop(); }
        );
    }

    // Starts every service not yet started, in order.
    void Start();
    // Stops the started services, last first. Safe to call twice.
    void Stop();
    // The names in start order (for tests and the start-up log).
    std::vector<std::string> Names() const;

private:
    struct Service {
        std::string name;
        std::function<void()> start, stop;
    };
    std::vector<Service> services_;
    size_t started_ = 0;
};

}  // namespace hangar::server
