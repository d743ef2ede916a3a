#pragma once
// The transport's view of a request and a response, free of Beast, so handlers and the
// api layer stay out of the HTTP library's headers.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hangar::http {

using Headers = std::vector<std::pair<std::string, std::string>>;  // names lower-case

struct Request {
    std::string method;                                      // "GET"
    std::string target;                                      // raw request target
    std::string path;                                        // percent-decoded path
    std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
    Headers headers;
    std::string body;
    std::string remote;  // "127.0.0.1:53412"
    std::string request_id;
    std::vector<std::pair<std::string, std::string>> params;  // from the route pattern
    std::string route;                                        // the matched pattern

    std::string_view Header(std::string_view lower_name) const;
    std::optional<std::string> Query(std::string_view name) const;
    std::string_view Param(std::string_view name) const;
};

// Pushes server-sent events to one client; thread-safe. Send returns false once the client is
// gone or too far behind, and the producer should then drop the sink.
class StreamSink {
public:
    virtual ~StreamSink() = default;
    virtual bool Send(std::string data) = 0;
    virtual void Close() = 0;
    virtual bool IsOpen() const = 0;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    Headers headers;
    std::string body;
    // Set for a streaming response (server-sent events): called once the headers are out.
    std::function<void(std::shared_ptr<StreamSink>)> stream;
};

}  // namespace hangar::http
