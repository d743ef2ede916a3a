// Webhook destinations (the SSRF guard): hangar::core::DestinationPolicy::CheckUrl and UrlHost
// on each input line, under the default policy and under one made from an "allow:" first line
// (DestinationPolicy::Make, as --webhook-allow entries); IsPublic / AllowsConnect on addresses
// made from the input's first bytes. CheckUrl reads addresses with getaddrinfo(AI_NUMERICHOST):
// no name is looked up, no socket opened.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

#include "hangar/core/destination.hpp"

#include "fuzz_support.hpp"

namespace {

namespace core = hangar::core;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    std::string_view text = hangar::fuzz::AsText(data, size);
    static const core::DestinationPolicy kDefault = *core::DestinationPolicy::Make({});
    static const core::DestinationPolicy kOperator = *core::DestinationPolicy::Make(
        {"hooks.internal", "127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8", "192.168.1.0/25"}
    );

    std::vector<std::string_view> lines = hangar::fuzz::Lines(text, 32);
    std::optional<core::DestinationPolicy> custom;
    if (!lines.empty() && lines.front().starts_with("allow:")) {
        std::vector<std::string> entries;
        std::string_view list = lines.front().substr(6);
        while (!list.empty() && entries.size() < 16) {
            size_t comma = list.find(',');
            entries.emplace_back(list.substr(0, comma));
            list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        }
        if (auto p = core::DestinationPolicy::Make(entries)) {
            custom = std::move(*p);
        }
    }
    std::string first_host;
    for (std::string_view line : lines) {
        std::string host = core::UrlHost(line);
        if (first_host.empty()) {
            first_host = host;
        }
        (void)kDefault.CheckUrl(line);
        (void)kOperator.CheckUrl(line);
        if (custom) {
            (void)custom->CheckUrl(line);
        }
    }

    if (size >= 16) {
        sockaddr_in6 v6{};
        v6.sin6_family = AF_INET6;
        std::memcpy(&v6.sin6_addr, data, 16);
        sockaddr_in v4{};
        v4.sin_family = AF_INET;
        std::memcpy(&v4.sin_addr, data, 4);
        for (const sockaddr* a :
             {reinterpret_cast<const sockaddr*>(&v6),
              reinterpret_cast<const sockaddr*>(&v4)}) {  // NOLINT
            (void)core::DestinationPolicy::IsPublic(a);
            (void)kOperator.AllowsConnect(a, first_host);
            if (custom) {
                (void)custom->AllowsConnect(a, first_host);
            }
        }
    }
    return 0;
}
