#include "hangar/fleet/instance_logs.hpp"

#include <algorithm>
#include <fstream>

namespace hangar::fleet {

LogChunk
ReadInstanceLog(const std::string& path, std::optional<int64_t> offset, int64_t tail_lines) {
    LogChunk out;
    if (path.empty()) {
        return out;
    }
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) {
        return out;
    }
    out.size = static_cast<int64_t>(f.tellg());
    constexpr int64_t kMax = 1 << 20;
    int64_t from = 0;
    if (offset) {
        from = *offset <= out.size ? *offset : 0;  // the log was rotated: start over
    }
    from = std::max(from, out.size - kMax);
    f.seekg(from);
    out.text.resize(static_cast<size_t>(out.size - from));
    f.read(out.text.data(), static_cast<std::streamsize>(out.text.size()));
    if (offset) {
        return out;
    }
    // The last `tail_lines` lines.
    auto lines = static_cast<size_t>(std::max<int64_t>(tail_lines, 0));
    size_t pos = out.text.size();
    if (!out.text.empty() && out.text.back() == '\n') {
        --pos;
    }
    while (lines > 0 && pos > 0) {
        pos = out.text.rfind('\n', pos - 1);
        if (pos == std::string::npos) {
            pos = 0;
            break;
        }
        --lines;
    }
    out.text = out.text.substr(pos == 0 ? 0 : pos + 1);
    return out;
}

}  // namespace hangar::fleet
