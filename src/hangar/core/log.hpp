#pragma once
// Structured logs: one JSON object per line on stderr, e.g.
// {"time":"...","level":"info","msg":"request","request_id":"req_...","status":200}

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace hangar::core {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

using LogValue = std::variant<std::string_view, int64_t, double, bool>;
using LogField = std::pair<std::string_view, LogValue>;

void SetLogLevel(LogLevel level);
bool ParseLogLevel(std::string_view s, LogLevel& out);
void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

inline void LogInfo(std::string_view msg, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kInfo, msg, fields);
}
inline void LogWarn(std::string_view msg, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kWarn, msg, fields);
}
inline void LogError(std::string_view msg, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kError, msg, fields);
}

}  // namespace hangar::core
