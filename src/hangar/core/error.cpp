#include "hangar/core/error.hpp"

namespace hangar::core {

int HttpStatus(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return 400;
        case ErrorCode::kUnauthenticated:
            return 401;
        case ErrorCode::kForbidden:
            return 403;
        case ErrorCode::kNotFound:
            return 404;
        case ErrorCode::kMethodNotAllowed:
            return 405;
        case ErrorCode::kConflict:
            return 409;
        case ErrorCode::kAlreadyExists:
            return 409;
        case ErrorCode::kGone:
            return 410;
        case ErrorCode::kPayloadTooLarge:
            return 413;
        case ErrorCode::kUnsupportedMediaType:
            return 415;
        case ErrorCode::kUnprocessable:
            return 422;
        case ErrorCode::kTooManyRequests:
            return 429;
        case ErrorCode::kRequestTimeout:
            return 408;
        case ErrorCode::kInternal:
            return 500;
        case ErrorCode::kUnavailable:
            return 503;
    }
    return 500;
}

std::string_view CodeString(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return "invalid_argument";
        case ErrorCode::kUnauthenticated:
            return "unauthenticated";
        case ErrorCode::kForbidden:
            return "forbidden";
        case ErrorCode::kNotFound:
            return "not_found";
        case ErrorCode::kMethodNotAllowed:
            return "method_not_allowed";
        case ErrorCode::kConflict:
            return "conflict";
        case ErrorCode::kAlreadyExists:
            return "already_exists";
        case ErrorCode::kGone:
            return "gone";
        case ErrorCode::kPayloadTooLarge:
            return "payload_too_large";
        case ErrorCode::kUnsupportedMediaType:
            return "unsupported_media_type";
        case ErrorCode::kUnprocessable:
            return "unprocessable";
        case ErrorCode::kTooManyRequests:
            return "too_many_requests";
        case ErrorCode::kRequestTimeout:
            return "request_timeout";
        case ErrorCode::kInternal:
            return "internal";
        case ErrorCode::kUnavailable:
            return "unavailable";
    }
    return "internal";
}

int ExitCode(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return 3;
        case ErrorCode::kUnauthenticated:
            return 4;
        case ErrorCode::kForbidden:
            return 5;
        case ErrorCode::kNotFound:
            return 6;
        case ErrorCode::kConflict:
            return 7;
        case ErrorCode::kAlreadyExists:
            return 7;
        case ErrorCode::kGone:
            return 8;
        case ErrorCode::kUnprocessable:
            return 3;
        case ErrorCode::kPayloadTooLarge:
            return 3;
        case ErrorCode::kUnsupportedMediaType:
            return 3;
        case ErrorCode::kMethodNotAllowed:
            return 3;
        case ErrorCode::kTooManyRequests:
            return 9;
        case ErrorCode::kRequestTimeout:
            return 9;
        case ErrorCode::kUnavailable:
            return 9;
        case ErrorCode::kInternal:
            return 10;
    }
    return 10;
}

ErrorCode CodeFromString(std::string_view code) {
    for (ErrorCode c : kAllErrorCodes) {
        if (CodeString(c) == code) {
            return c;
        }
    }
    return ErrorCode::kInternal;
}

}  // namespace hangar::core
