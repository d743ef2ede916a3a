#pragma once
// Where outbound calls made for a tenant (webhooks) may go. A tenant names a URL; without this
// check Hangar would call, from inside the operator's network, whatever the tenant names: the
// cloud's metadata service (169.254.169.254), loopback ports, the private network. Private,
// loopback, link-local, unspecified and multicast addresses are refused, however they are
// spelled (2130706433, 0x7f.1, [::ffff:127.0.0.1]) and after DNS resolution, unless the
// operator allowed them (--webhook-allow: host names, addresses or CIDR blocks).

#include <string>
#include <string_view>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

#include "hangar/core/error.hpp"

namespace hangar::core {

class DestinationPolicy {
public:
    // Entries: "hooks.internal", "127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8". Bad entries fail.
    static Result<DestinationPolicy> Make(const std::vector<std::string>& allow);

    // The process-wide policy (set once at start-up; refuses every private address until then).
    static const DestinationPolicy& Global();
    static void SetGlobal(DestinationPolicy p);

    // An http(s) URL a tenant may store: well-formed, and its host, if it is an address in any
    // spelling or localhost, not private unless allowed. Other names are checked when the call
    // is made, against the address they resolve to then.
    Result<void> CheckUrl(std::string_view url) const;
    // Whether a connection to `addr` may be opened (checked again at connect time, so DNS that
    // changes its answer later cannot send a call to a private address). `host` is the URL's.
    bool AllowsConnect(const sockaddr* addr, std::string_view host) const;
    // Whether an address is public (not private, loopback, link-local, ...).
    static bool IsPublic(const sockaddr* addr);

private:
    struct Block {
        int family = AF_INET;
        unsigned char bytes[16] = {};
        int prefix = 0;
    };
    bool Allowed(const sockaddr* addr, std::string_view host) const;
    std::vector<std::string> hosts_;
    std::vector<Block> blocks_;
};

// The host of an http(s) URL ("" when it has none), without brackets or port.
std::string UrlHost(std::string_view url);

}  // namespace hangar::core
