#include "hangar/cli/client.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <strings.h>

#include "hangar/core/json.hpp"

namespace hangar::cli {

namespace {

// The code an HTTP status stands for (the first code core::HttpStatus maps to it).
core::ErrorCode CodeOfStatus(int status) {
    for (core::ErrorCode c : core::kAllErrorCodes) {
        if (core::HttpStatus(c) == status) {
            return c;
        }
    }
    return core::ErrorCode::kInternal;
}

}  // namespace

using core::ErrorCode;
using core::Fail;

namespace {

size_t Header(char* data, size_t size, size_t n, void* user) {
    std::string_view line(data, size * n);
    constexpr std::string_view kName = "x-log-offset:";
    if (line.size() > kName.size() && strncasecmp(line.data(), kName.data(), kName.size()) == 0) {
        std::string v(line.substr(kName.size()));
        v.erase(0, v.find_first_not_of(' '));
        v.erase(v.find_last_not_of("\r\n ") + 1);
        static_cast<HttpResult*>(user)->log_offset = v;
    }
    return size * n;
}

size_t Collect(char* data, size_t size, size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
}

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    ~CurlGlobal() { curl_global_cleanup(); }
};

}  // namespace

core::Result<HttpResult> Client::Send(
    const std::string& method,
    const std::string& path,
    const std::string& body,
    const std::vector<std::string>& headers
) {
    static CurlGlobal global;
    CURL* curl = curl_easy_init();
    if (curl == nullptr) {
        return Fail(ErrorCode::kInternal, "cannot initialise libcurl");
    }
    std::string url = cfg_.server;
    while (!url.empty() && url.back() == '/') {
        url.pop_back();
    }
    url += path;
    HttpResult out;
    curl_slist* hdrs = nullptr;
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    bool typed = std::any_of(headers.begin(), headers.end(), [](const std::string& h) {
        return h.size() > 13 && strncasecmp(h.c_str(), "content-type:", 13) == 0;
    });
    if (!body.empty() && !typed) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    }
    std::string auth = "Authorization: Bearer " + cfg_.token;
    if (!cfg_.token.empty()) {
        hdrs = curl_slist_append(hdrs, auth.c_str());
    }
    for (const auto& h : headers) {
        hdrs = curl_slist_append(hdrs, h.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, Header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (!body.empty()) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
        return Fail(
            ErrorCode::kUnavailable,
            fmt::format(
                "cannot reach {} ({}). Is `hangar serve` running there? Set --server or "
                "HANGAR_SERVER.",
                cfg_.server,
                curl_easy_strerror(rc)
            )
        );
    }
    return out;
}

core::Result<HttpResult> Client::Text(const std::string& path) {
    auto r = Send("GET", path, "", {});
    if (!r) {
        return Fail(r.error());
    }
    if (r->status >= 200 && r->status < 300) {
        return r;
    }
    auto err = Call("GET", path);  // the same request again, for its JSON error
    return Fail(err ? core::MakeError(ErrorCode::kInternal, "unexpected answer") : err.error());
}

core::Result<boost::json::value> Client::Call(
    const std::string& method,
    const std::string& path,
    const std::string& body,
    const std::vector<std::string>& headers
) {
    auto r = Send(method, path, body, headers);
    if (!r) {
        return Fail(r.error());
    }
    auto parsed = core::ParseJson(r->body);
    if (r->status >= 200 && r->status < 300) {
        if (!parsed) {
            return Fail(
                ErrorCode::kInternal,
                fmt::format("the server answered {} with a body that is not JSON", r->status)
            );
        }
        return std::move(*parsed);
    }
    core::Error e = core::MakeError(
        ErrorCode::kInternal, fmt::format("the server answered HTTP {}", r->status)
    );
    if (parsed && parsed->is_object()) {
        if (const auto* err = parsed->as_object().if_contains("error");
            err != nullptr && err->is_object()) {
            const auto& eo = err->as_object();
            if (const auto* c = eo.if_contains("code"); c != nullptr && c->is_string()) {
                e.code = core::CodeFromString(std::string(c->as_string()));
            }
            if (const auto* m = eo.if_contains("message"); m != nullptr && m->is_string()) {
                e.message = std::string(m->as_string());
            }
        } else if (const auto* d = parsed->as_object().if_contains("detail");
                   d != nullptr && d->is_string()) {
            // application/problem+json (the OpenMeter-compatible metering API).
            e.code = CodeOfStatus(r->status);
            e.message = std::string(d->as_string());
        }
    }
    if (e.code == ErrorCode::kUnauthenticated) {
        e.message +=
            cfg_.token.empty()
                ? ". Give a token with --token or HANGAR_TOKEN (the first admin token is in "
                  "<data-dir>/admin-token)."
                : ". Check --token / HANGAR_TOKEN.";
    }
    return Fail(std::move(e));
}

}  // namespace hangar::cli
