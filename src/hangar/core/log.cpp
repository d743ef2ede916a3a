#include "hangar/core/log.hpp"

#include <atomic>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "hangar/core/clock.hpp"

namespace hangar::core {

namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

spdlog::logger& Logger() {
    static auto logger = [] {
        auto l = std::make_shared<spdlog::logger>(
            "hangar", std::make_shared<spdlog::sinks::stderr_sink_mt>()
        );
        l->set_pattern("%v");
        l->flush_on(spdlog::level::info);
        return l;
    }();
    return *logger;
}

void AppendQuoted(std::string& out, std::string_view s) {
    out += boost::json::serialize(boost::json::string(s));
}

std::string_view LevelName(LogLevel l) {
    switch (l) {
        case LogLevel::kDebug:
            return "debug";
        case LogLevel::kInfo:
            return "info";
        case LogLevel::kWarn:
            return "warn";
        case LogLevel::kError:
            return "error";
    }
    return "info";
}

}  // namespace

void SetLogLevel(LogLevel level) {
    g_level = static_cast<int>(level);
}

bool ParseLogLevel(std::string_view s, LogLevel& out) {
    for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
        if (LevelName(l) == s) {
            out = l;
            return true;
        }
    }
    return false;
}

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
    if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) {
        return;
    }
    std::string line = "{\"time\":\"" + FormatRfc3339(std::chrono::system_clock::now()) +
                       "\",\"level\":\"" + std::string(LevelName(level)) + "\",\"msg\":";
    AppendQuoted(line, msg);
    for (const auto& [key, value] : fields) {
        line += ',';
        AppendQuoted(line, key);
        line += ':';
        if (const auto* s = std::get_if<std::string_view>(&value)) {
            AppendQuoted(line, *s);
        } else if (const auto* i = std::get_if<int64_t>(&value)) {
            line += std::to_string(*i);
        } else if (const auto* d = std::get_if<double>(&value)) {
            line += fmt::format("{:.3f}", *d);
        } else {
            line += std::get<bool>(value) ? "true" : "false";
        }
    }
    line += '}';
    Logger().info(line);
}

}  // namespace hangar::core
