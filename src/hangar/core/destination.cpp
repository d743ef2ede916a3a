#include "hangar/core/destination.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>

namespace hangar::core {

namespace {

std::mutex g_mu;
DestinationPolicy g_policy;

std::string Lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return out;
}

bool PrivateV4(const unsigned char b[4]) {
    return b[0] == 0 ||                                // "this network", 0.0.0.0
           b[0] == 10 ||                               // private
           b[0] == 127 ||                              // loopback
           (b[0] == 100 && (b[1] & 0xC0) == 64) ||     // carrier-grade NAT 100.64/10
           (b[0] == 169 && b[1] == 254) ||             // link-local, cloud metadata
           (b[0] == 172 && (b[1] & 0xF0) == 16) ||     // private
           (b[0] == 192 && b[1] == 0 && b[2] == 0) ||  // IETF protocol assignments
           (b[0] == 192 && b[1] == 168) ||             // private
           (b[0] == 198 && (b[1] & 0xFE) == 18) ||     // benchmarking 198.18/15
           b[0] >= 224;                                // multicast, reserved, broadcast
}

bool PrivateV6(const unsigned char b[16]) {
    static constexpr unsigned char kZero[16] = {};
    bool v4_mapped = std::memcmp(b, kZero, 10) == 0 && b[10] == 0xFF && b[11] == 0xFF;
    bool v4_compat = std::memcmp(b, kZero, 12) == 0;  // ::a.b.c.d, :: and ::1 among them
    if (v4_mapped || v4_compat) {
        return v4_compat ? true : PrivateV4(b + 12);
    }
    if (b[0] == 0x64 && b[1] == 0xFF && b[2] == 0x9B) {  // NAT64 64:ff9b::/96 reaches IPv4
        return PrivateV4(b + 12);
    }
    return (b[0] & 0xFE) == 0xFC ||                                         // unique local fc00::/7
           (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) ||                       // link-local fe80::/10
           (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) ||                       // site-local fec0::/10
           b[0] == 0xFF ||                                                  // multicast
           (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8);  // documentation
}

}  // namespace

std::string UrlHost(std::string_view url) {
    size_t scheme = url.find("://");
    if (scheme == std::string_view::npos) {
        return {};
    }
    std::string_view rest = url.substr(scheme + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
        rest = rest.substr(at + 1);  // user:password@
    }
    if (rest.starts_with('[')) {
        size_t close = rest.find(']');
        return close == std::string_view::npos ? std::string() : Lower(rest.substr(1, close - 1));
    }
    return Lower(rest.substr(0, rest.find(':')));
}

Result<DestinationPolicy> DestinationPolicy::Make(const std::vector<std::string>& allow) {
    DestinationPolicy p;
    for (const std::string& entry : allow) {
        if (entry.empty()) {
            continue;
        }
        std::string_view addr = entry;
        int prefix = -1;
        if (size_t slash = entry.find('/'); slash != std::string::npos) {
            addr = std::string_view(entry).substr(0, slash);
            std::string bits = entry.substr(slash + 1);
            if (bits.empty() || bits.size() > 3 ||
                !std::all_of(bits.begin(), bits.end(), ::isdigit)) {
                return Fail(
                    ErrorCode::kInvalidArgument,
                    fmt::format("--webhook-allow \"{}\": the prefix length is not a number", entry)
                );
            }
            prefix = std::stoi(bits);
        }
        Block b;
        std::string a(addr);
        if (inet_pton(AF_INET, a.c_str(), b.bytes) == 1) {
            b.family = AF_INET;
            b.prefix = prefix < 0 ? 32 : prefix;
        } else if (inet_pton(AF_INET6, a.c_str(), b.bytes) == 1) {
            b.family = AF_INET6;
            b.prefix = prefix < 0 ? 128 : prefix;
        } else if (prefix < 0) {
            p.hosts_.push_back(Lower(entry));
            continue;
        } else {
            return Fail(
                ErrorCode::kInvalidArgument,
                fmt::format("--webhook-allow \"{}\": not an address block", entry)
            );
        }
        if (b.prefix > (b.family == AF_INET ? 32 : 128)) {
            return Fail(
                ErrorCode::kInvalidArgument,
                fmt::format("--webhook-allow \"{}\": the prefix is too long", entry)
            );
        }
        p.blocks_.push_back(b);
    }
    return p;
}

const DestinationPolicy& DestinationPolicy::Global() {
    std::lock_guard lock(g_mu);
    return g_policy;
}

void DestinationPolicy::SetGlobal(DestinationPolicy p) {
    std::lock_guard lock(g_mu);
    g_policy = std::move(p);
}

bool DestinationPolicy::IsPublic(const sockaddr* addr) {
    if (addr->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(addr
        );  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
        unsigned char b[4];
        std::memcpy(b, &in->sin_addr, 4);
        return !PrivateV4(b);
    }
    if (addr->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr
        );  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
        unsigned char b[16];
        std::memcpy(b, &in6->sin6_addr, 16);
        return !PrivateV6(b);
    }
    return false;  // unix sockets and the like: never
}

bool DestinationPolicy::Allowed(const sockaddr* addr, std::string_view host) const {
    if (std::find(hosts_.begin(), hosts_.end(), Lower(host)) != hosts_.end()) {
        return true;
    }
    unsigned char bytes[16];
    int family = addr->sa_family;
    if (family == AF_INET) {
        std::memcpy(
            bytes, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, 4
        );  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    } else if (family == AF_INET6) {
        std::memcpy(
            bytes, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, 16
        );  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    } else {
        return false;
    }
    for (const Block& b : blocks_) {
        if (b.family != family) {
            continue;
        }
        int full = b.prefix / 8, rest = b.prefix % 8;
        if (std::memcmp(bytes, b.bytes, static_cast<size_t>(full)) != 0) {
            continue;
        }
        if (rest == 0 || ((bytes[full] ^ b.bytes[full]) & (0xFF << (8 - rest)) & 0xFF) == 0) {
            return true;
        }
    }
    return false;
}

bool DestinationPolicy::AllowsConnect(const sockaddr* addr, std::string_view host) const {
    return IsPublic(addr) || Allowed(addr, host);
}

Result<void> DestinationPolicy::CheckUrl(std::string_view url) const {
    if ((!url.starts_with("http://") && !url.starts_with("https://")) || url.size() > 2048) {
        return Fail(ErrorCode::kInvalidArgument, "must be an http:// or https:// URL");
    }
    std::string host = UrlHost(url);
    if (host.empty() || host.find_first_of(" \t\r\n\\%") != std::string::npos) {
        return Fail(ErrorCode::kInvalidArgument, "must be an http:// or https:// URL with a host");
    }
    if (host == "localhost" || host.ends_with(".localhost")) {
        return Fail(
            ErrorCode::kInvalidArgument,
            fmt::format(
                "\"{}\" is a loopback address; webhooks go to public addresses (an operator can "
                "allow it with --webhook-allow)",
                host
            )
        );
    }
    // Every spelling of an address (2130706433, 0x7f.1, 127.1, ::ffff:...) is read as curl
    // will read it when it connects. Names are not looked up here, where a slow resolver would
    // hold the request: the connection's address is checked when the call is made.
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) {
        return {};  // a name: checked at connect time
    }
    bool ok = true;
    for (addrinfo* a = res; a != nullptr && ok; a = a->ai_next) {
        ok = AllowsConnect(a->ai_addr, host);
    }
    freeaddrinfo(res);
    if (!ok) {
        return Fail(
            ErrorCode::kInvalidArgument,
            fmt::format(
                "\"{}\" is a private, loopback or link-local address; webhooks go to public "
                "addresses (an operator can allow it with --webhook-allow)",
                host
            )
        );
    }
    return {};
}

}  // namespace hangar::core
