#include "hangar/metrics/block.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "hangar/metrics/codec.hpp"

namespace hangar::metrics {

namespace fs = std::filesystem;
namespace json = boost::json;
using core::ErrorCode;
using core::Fail;
using core::Result;

namespace {

constexpr std::string_view kIndexMagic = "HANGARIDX1";

Result<void> WriteFile(const std::string& path, std::string_view data) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return Fail(
            ErrorCode::kInternal, fmt::format("cannot write {}: {}", path, std::strerror(errno))
        );
    }
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            ::close(fd);
            return Fail(
                ErrorCode::kInternal, fmt::format("cannot write {}: {}", path, std::strerror(errno))
            );
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
    ::fsync(fd);
    ::close(fd);
    return {};
}

void SyncDir(const std::string& dir) {
    if (int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
        ::fsync(d);
        ::close(d);
    }
}

Result<std::pair<const char*, size_t>> Map(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return Fail(
            ErrorCode::kInternal, fmt::format("cannot open {}: {}", path, std::strerror(errno))
        );
    }
    struct stat st {};
    ::fstat(fd, &st);
    size_t len = static_cast<size_t>(st.st_size);
    if (len == 0) {
        ::close(fd);
        return std::pair<const char*, size_t>{nullptr, 0};
    }
    void* p = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) {
        return Fail(
            ErrorCode::kInternal, fmt::format("cannot map {}: {}", path, std::strerror(errno))
        );
    }
    return std::pair<const char*, size_t>{static_cast<const char*>(p), len};
}

}  // namespace

Block::~Block() {
    if (index_ != nullptr) {
        ::munmap(const_cast<char*>(index_), index_len_);
    }
    if (chunks_ != nullptr) {
        ::munmap(const_cast<char*>(chunks_), chunks_len_);
    }
    if (deleted_) {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
}

Result<std::string> Block::Write(
    const std::string& parent,
    const BlockMeta& meta,
    std::span<const BlockSeries> series
) {
    std::string name = fmt::format("{:015d}-{:015d}-{}", meta.mint, meta.maxt, meta.resolution);
    std::string tmp = parent + "/.tmp-" + name;
    std::string final_path = parent + "/" + name;
    std::error_code ec;
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp, ec);
    if (ec) {
        return Fail(ErrorCode::kInternal, fmt::format("cannot create {}: {}", tmp, ec.message()));
    }
    std::string chunks, index(kIndexMagic);
    BlockMeta m = meta;
    m.series = m.chunks = 0;
    for (const auto& s : series) {
        if (s.chunks.empty()) {
            continue;
        }
        ++m.series;
        PutString(index, s.tenant);
        PutLabels(index, *s.labels);
        PutUvarint(index, s.chunks.size());
        for (size_t i = 0; i < s.chunks.size(); ++i) {
            PutVarint(index, s.ranges[i].first);
            PutVarint(index, s.ranges[i].second);
            PutUvarint(index, chunks.size());
            PutUvarint(index, s.chunks[i].size());
            chunks += s.chunks[i];
            ++m.chunks;
        }
    }
    json::object js{
        {"mint", m.mint},
        {"maxt", m.maxt},
        {"resolution", m.resolution},
        {"series", m.series},
        {"samples", m.samples},
        {"chunks", m.chunks},
        {"version", 1},
    };
    if (auto r = WriteFile(tmp + "/chunks", chunks); !r) {
        return Fail(r.error());
    }
    if (auto r = WriteFile(tmp + "/index", index); !r) {
        return Fail(r.error());
    }
    if (auto r = WriteFile(tmp + "/meta.json", json::serialize(js)); !r) {
        return Fail(r.error());
    }
    SyncDir(tmp);
    fs::remove_all(final_path, ec);
    fs::rename(tmp, final_path, ec);
    if (ec) {
        return Fail(ErrorCode::kInternal, fmt::format("cannot rename {}: {}", tmp, ec.message()));
    }
    SyncDir(parent);
    return final_path;
}

Result<std::shared_ptr<Block>> Block::Open(const std::string& path) {
    std::ifstream in(path + "/meta.json");
    if (!in) {
        return Fail(ErrorCode::kInternal, fmt::format("block {} has no meta.json", path));
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::shared_ptr<Block> b(new Block());
    b->path_ = path;
    try {
        auto js = json::parse(text).as_object();
        b->meta_.mint = js.at("mint").to_number<int64_t>();
        b->meta_.maxt = js.at("maxt").to_number<int64_t>();
        b->meta_.resolution = js.at("resolution").to_number<int64_t>();
        b->meta_.series = js.at("series").to_number<uint64_t>();
        b->meta_.samples = js.at("samples").to_number<uint64_t>();
        b->meta_.chunks = js.at("chunks").to_number<uint64_t>();
    } catch (const std::exception& e) {
        return Fail(
            ErrorCode::kInternal, fmt::format("block {} has a bad meta.json: {}", path, e.what())
        );
    }
    auto idx = Map(path + "/index");
    if (!idx) {
        return Fail(idx.error());
    }
    b->index_ = idx->first;
    b->index_len_ = idx->second;
    auto ch = Map(path + "/chunks");
    if (!ch) {
        return Fail(ch.error());
    }
    b->chunks_ = ch->first;
    b->chunks_len_ = ch->second;
    if (b->index_len_ < kIndexMagic.size() ||
        std::string_view(b->index_, kIndexMagic.size()) != kIndexMagic) {
        return Fail(ErrorCode::kInternal, fmt::format("block {} has a bad index", path));
    }
    return b;
}

void Block::ForEachSeries(
    const std::function<void(std::string_view, std::vector<LabelView>&, uint64_t)>& fn
) const {
    std::string_view all(index_, index_len_);
    Decoder d(all.substr(kIndexMagic.size()));
    std::vector<LabelView> labels;
    while (!d.empty()) {
        std::string_view tenant;
        if (!d.String(tenant) || !d.Labels(labels)) {
            return;
        }
        uint64_t handle = all.size() - d.rest().size();
        uint64_t nchunks = 0;
        if (!d.Uvarint(nchunks)) {
            return;
        }
        for (uint64_t i = 0; i < nchunks; ++i) {
            int64_t a = 0, z = 0;
            uint64_t off = 0, len = 0;
            if (!d.Varint(a) || !d.Varint(z) || !d.Uvarint(off) || !d.Uvarint(len)) {
                return;
            }
        }
        fn(tenant, labels, handle);
    }
}

std::vector<ChunkMeta> Block::Chunks(uint64_t handle) const {
    std::vector<ChunkMeta> out;
    if (handle >= index_len_) {
        return out;
    }
    Decoder d(std::string_view(index_ + handle, index_len_ - handle));
    uint64_t n = 0;
    if (!d.Uvarint(n)) {
        return out;
    }
    for (uint64_t i = 0; i < n; ++i) {
        ChunkMeta m;
        if (!d.Varint(m.mint) || !d.Varint(m.maxt) || !d.Uvarint(m.offset) ||
            !d.Uvarint(m.length)) {
            break;
        }
        if (m.offset + m.length > chunks_len_) {
            break;
        }
        out.push_back(m);
    }
    return out;
}

std::string_view Block::ChunkBytes(const ChunkMeta& m) const {
    return std::string_view(chunks_ + m.offset, m.length);
}

}  // namespace hangar::metrics
