#pragma once
// The metrics store's write-ahead log: numbered segment files of framed records
// (u32 length, u32 CRC-32C, payload). A record is handed to the kernel with one write(2)
// before the append that produced it is acknowledged, so a crash of Hangar loses nothing it
// acknowledged; fsync happens when a segment is closed and on Sync() (power loss may lose the
// last seconds, as with Prometheus's WAL). Replay stops at the first torn or corrupt record.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/core/error.hpp"

namespace hangar::metrics {

class Wal {
public:
    ~Wal();
    Wal(const Wal&) = delete;
    Wal& operator=(const Wal&) = delete;

    // Opens `dir` (created if missing) and starts a new segment after the existing ones.
    static core::Result<std::unique_ptr<Wal>>
    Open(std::string dir, uint64_t segment_bytes = 128u << 20);

    // Frames and writes several records with one write(2).
    core::Result<void> Append(const std::vector<std::string_view>& records);
    core::Result<void> Sync();
    // Closes the current segment and starts the next; returns the new segment's number.
    core::Result<int> Cut();
    // Deletes segments numbered below `segment`.
    void RemoveBefore(int segment);
    uint64_t bytes() const { return bytes_; }  // across all segments on disk
    const std::string& dir() const { return dir_; }

    struct ReplayStats {
        size_t records = 0, segments = 0;
        bool torn = false;  // a segment ended in a partial or corrupt record (cut off there)
    };
    // Calls `fn` for every intact record of every segment, oldest first.
    static core::Result<ReplayStats>
    Replay(const std::string& dir, const std::function<void(std::string_view)>& fn);

private:
    Wal() = default;
    core::Result<void> OpenSegment(int n);
    std::string dir_;
    uint64_t segment_limit_ = 0, segment_size_ = 0, bytes_ = 0;
    int fd_ = -1, segment_ = 0;
    std::string frame_;
};

std::vector<int> ListSegments(const std::string& dir);

}  // namespace hangar::metrics
