#pragma once
// Expected failures travel as values: Result<T> = std::expected<T, Error>.
// One ErrorCode maps to the HTTP status, the JSON `code` string and the CLI exit code.

#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hangar::core {

enum class ErrorCode {
    kInvalidArgument,
    kUnauthenticated,
    kForbidden,
    kNotFound,
    kMethodNotAllowed,
    kConflict,
    kAlreadyExists,
    kGone,
    kPayloadTooLarge,
    kUnsupportedMediaType,
    kUnprocessable,
    kTooManyRequests,
    kRequestTimeout,
    kInternal,
    kUnavailable,
};

inline constexpr ErrorCode kAllErrorCodes[] = {
    ErrorCode::kInvalidArgument,
    ErrorCode::kUnauthenticated,
    ErrorCode::kForbidden,
    ErrorCode::kNotFound,
    ErrorCode::kMethodNotAllowed,
    ErrorCode::kConflict,
    ErrorCode::kAlreadyExists,
    ErrorCode::kGone,
    ErrorCode::kPayloadTooLarge,
    ErrorCode::kUnsupportedMediaType,
    ErrorCode::kUnprocessable,
    ErrorCode::kTooManyRequests,
    ErrorCode::kRequestTimeout,
    ErrorCode::kInternal,
    ErrorCode::kUnavailable,
};

int HttpStatus(ErrorCode code);
std::string_view CodeString(ErrorCode code);
// Exit code of a CLI command that failed with this error (0 is success, 1 usage, 2 connection).
int ExitCode(ErrorCode code);
ErrorCode CodeFromString(std::string_view code);

struct Error {
    ErrorCode code = ErrorCode::kInternal;
    std::string message;  // safe to show to the client
    // Client-visible structured details (field path, current revision, ...), as key/value.
    std::vector<std::pair<std::string, std::string>> details;
    std::string log_detail;  // for logs only, never sent to a client

    Error& With(std::string key, std::string value) {
        details.emplace_back(std::move(key), std::move(value));
        return *this;
    }
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> Fail(ErrorCode code, std::string message) {
    return std::unexpected(Error{code, std::move(message), {}, {}});
}
inline std::unexpected<Error> Fail(Error e) {
    return std::unexpected(std::move(e));
}

inline Error MakeError(ErrorCode code, std::string message) {
    return Error{code, std::move(message), {}, {}};
}

}  // namespace hangar::core
