#include "hangar/metrics/wal.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hangar/metrics/codec.hpp"

namespace hangar::metrics {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::Fail;
using core::Result;

namespace {

std::string SegmentPath(const std::string& dir, int n) {
    return fmt::format("{}/{:08d}", dir, n);
}

void PutU32(std::string& out, uint32_t v) {
    char b[4];
    std::memcpy(b, &v, 4);
    out.append(b, 4);
}

uint32_t GetU32(const char* p) {
    uint32_t v = 0;
    std::memcpy(&v, p, 4);
    return v;
}

constexpr uint32_t kMaxRecord = 64u << 20;

}  // namespace

std::vector<int> ListSegments(const std::string& dir) {
    std::vector<int> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        std::string name = e.path().filename().string();
        if (name.size() == 8 &&
            std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            out.push_back(std::stoi(name));
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

Wal::~Wal() {
    if (fd_ >= 0) {
        ::fsync(fd_);
        ::close(fd_);
    }
}

Result<std::unique_ptr<Wal>> Wal::Open(std::string dir, uint64_t segment_bytes) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        return Fail(
            ErrorCode::kInternal, fmt::format("cannot create WAL folder {}: {}", dir, ec.message())
        );
    }
    std::unique_ptr<Wal> w(new Wal());
    w->dir_ = std::move(dir);
    w->segment_limit_ = segment_bytes;
    auto segs = ListSegments(w->dir_);
    for (int s : segs) {
        w->bytes_ += fs::file_size(SegmentPath(w->dir_, s), ec);
    }
    if (auto r = w->OpenSegment(segs.empty() ? 1 : segs.back() + 1); !r) {
        return Fail(r.error());
    }
    return w;
}

Result<void> Wal::OpenSegment(int n) {
    std::string path = SegmentPath(dir_, n);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0644);
    if (fd < 0) {
        return Fail(
            ErrorCode::kInternal,
            fmt::format("cannot create WAL segment {}: {}", path, std::strerror(errno))
        );
    }
    if (fd_ >= 0) {
        ::fsync(fd_);
        ::close(fd_);
    }
    fd_ = fd;
    segment_ = n;
    segment_size_ = 0;
    // Make the new file's name durable.
    if (int d = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
        ::fsync(d);
        ::close(d);
    }
    return {};
}

Result<void> Wal::Append(const std::vector<std::string_view>& records) {
    frame_.clear();
    for (auto rec : records) {
        PutU32(frame_, static_cast<uint32_t>(rec.size()));
        PutU32(frame_, Crc32c(rec));
        frame_.append(rec);
    }
    if (segment_size_ > 0 && segment_size_ + frame_.size() > segment_limit_) {
        if (auto r = OpenSegment(segment_ + 1); !r) {
            return r;
        }
    }
    const char* p = frame_.data();
    size_t left = frame_.size();
    while (left > 0) {
        ssize_t n = ::write(fd_, p, left);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Fail(
                ErrorCode::kUnavailable, fmt::format("WAL write failed: {}", std::strerror(errno))
            );
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
    segment_size_ += frame_.size();
    bytes_ += frame_.size();
    return {};
}

Result<void> Wal::Sync() {
    if (::fsync(fd_) != 0) {
        return Fail(
            ErrorCode::kUnavailable, fmt::format("WAL fsync failed: {}", std::strerror(errno))
        );
    }
    return {};
}

Result<int> Wal::Cut() {
    if (auto r = OpenSegment(segment_ + 1); !r) {
        return Fail(r.error());
    }
    return segment_;
}

void Wal::RemoveBefore(int segment) {
    std::error_code ec;
    for (int s : ListSegments(dir_)) {
        if (s < segment) {
            std::string path = SegmentPath(dir_, s);
            uint64_t size = fs::file_size(path, ec);
            if (fs::remove(path, ec)) {
                bytes_ -= std::min(bytes_, size);
            }
        }
    }
}

Result<Wal::ReplayStats>
Wal::Replay(const std::string& dir, const std::function<void(std::string_view)>& fn) {
    ReplayStats stats;
    for (int s : ListSegments(dir)) {
        std::string path = SegmentPath(dir, s);
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            return Fail(ErrorCode::kInternal, fmt::format("cannot read WAL segment {}", path));
        }
        std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        ++stats.segments;
        size_t pos = 0;
        while (pos < data.size()) {
            if (data.size() - pos < 8) {
                stats.torn = true;
                break;
            }
            uint32_t len = GetU32(data.data() + pos);
            uint32_t crc = GetU32(data.data() + pos + 4);
            if (len > kMaxRecord || data.size() - pos - 8 < len) {
                stats.torn = true;
                break;
            }
            std::string_view rec(data.data() + pos + 8, len);
            if (Crc32c(rec) != crc) {
                stats.torn = true;
                break;
            }
            fn(rec);
            ++stats.records;
            pos += 8 + len;
        }
        if (stats.torn) {
            // Cut the segment at the last intact record so later appends are never behind garbage.
            ::truncate(path.c_str(), static_cast<off_t>(pos));
        }
    }
    return stats;
}

}  // namespace hangar::metrics
