#include "hangar/server/runtime.hpp"

namespace hangar::server {

void Runtime::Add(std::string name, std::function<void()> start, std::function<void()> stop) {
    services_.push_back({std::move(name), std::move(start), std::move(stop)});
}

void Runtime::Start() {
    while (started_ < services_.size()) {
        if (services_[started_].start) {
            services_[started_].start();
        }
        ++started_;
    }
}

void Runtime::Stop() {
    while (started_ > 0) {
        --started_;
        if (services_[started_].stop) {
            services_[started_].stop();
        }
    }
}

std::vector<std::string> Runtime::Names() const {
    std::vector<std::string> out;
    out.reserve(services_.size());
    for (const auto& s : services_) {
        out.push_back(s.name);
    }
    return out;
}

}  // namespace hangar::server
