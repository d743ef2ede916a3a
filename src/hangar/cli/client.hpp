#pragma once
// The CLI's HTTP client (libcurl). It speaks only the public API.

#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "hangar/core/error.hpp"
#include "hangar/core/strings.hpp"

namespace hangar::cli {

struct ClientConfig {
    std::string server = "http://127.0.0.1:8080";
    std::string token;
    std::string output = "table";  // table | json | yaml
};

struct HttpResult {
    long status = 0;
    std::string body;
    std::string log_offset;  // the x-log-offset header, when there is one
};

class Client {
public:
    explicit Client(ClientConfig cfg) : cfg_(std::move(cfg)) {}
    // Sends a request; a non-2xx answer becomes an Error carrying the server's code and message.
    core::Result<boost::json::value> Call(
        const std::string& method,
        const std::string& path,
        const std::string& body = "",
        const std::vector<std::string>& headers = {}
    );
    // A text endpoint (instance logs); non-2xx becomes an Error like Call's.
    core::Result<HttpResult> Text(const std::string& path);
    const ClientConfig& config() const { return cfg_; }

private:
    core::Result<HttpResult> Send(
        const std::string& method,
        const std::string& path,
        const std::string& body,
        const std::vector<std::string>& headers
    );
    ClientConfig cfg_;
};

// "a b" → "a%20b" (core's, shared with the tests)
using core::UrlEncode;

}  // namespace hangar::cli
