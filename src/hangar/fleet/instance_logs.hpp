#pragma once
// Reading an instance's log file (the process provisioner's stdout.log or stderr.log) for
// GET /v1/instances/{id}/logs and `hangar logs [-f]`: the last lines, or what was appended after
// a byte offset, never more than 1 MiB at once.

#include <cstdint>
#include <optional>
#include <string>

namespace hangar::fleet {

struct LogChunk {
    std::string text;
    int64_t size = 0;  // the file's size: the offset to continue from
};

// The last `tail_lines` lines when `offset` is unset; else what follows `offset` (from the
// start when the file is now shorter: it was rotated). A missing file is an empty chunk.
LogChunk
ReadInstanceLog(const std::string& path, std::optional<int64_t> offset, int64_t tail_lines);

}  // namespace hangar::fleet
