#pragma once
// A block: the compressed chunks of every series over one time range, persisted when the head
// is cut. A block is a folder with three files: `chunks` (chunk bytes back to back), `index`
// (per series: tenant, labels and chunk positions) and `meta.json` (written last; a folder
// without it is an interrupted write and is removed at start). Both data files are mmapped.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/core/error.hpp"
#include "hangar/metrics/labels.hpp"

namespace hangar::metrics {

struct ChunkMeta {
    int64_t mint = 0, maxt = 0;
    uint64_t offset = 0, length = 0;
};

struct BlockSeries {
    std::string_view tenant;
    const Labels* labels = nullptr;
    std::vector<std::string> chunks;                  // encoded, in time order
    std::vector<std::pair<int64_t, int64_t>> ranges;  // [mint, maxt] per chunk
};

struct BlockMeta {
    int64_t mint = 0, maxt = 0;  // [mint, maxt) in milliseconds
    int64_t resolution = 0;      // 0: raw samples; otherwise the rollup step in ms
    uint64_t series = 0, samples = 0, chunks = 0;
};

class Block {
public:
    ~Block();
    Block(const Block&) = delete;
    Block& operator=(const Block&) = delete;

    // Writes a block under `parent` and returns its folder's path.
    static core::Result<std::string>
    Write(const std::string& parent, const BlockMeta& meta, std::span<const BlockSeries> series);
    static core::Result<std::shared_ptr<Block>> Open(const std::string& path);

    // Calls fn(tenant, labels, handle) for every series; `handle` finds its chunks.
    void ForEachSeries(
        const std::function<void(std::string_view, std::vector<LabelView>&, uint64_t)>& fn
    ) const;
    std::vector<ChunkMeta> Chunks(uint64_t handle) const;
    std::string_view ChunkBytes(const ChunkMeta& m) const;

    const BlockMeta& meta() const { return meta_; }
    const std::string& path() const { return path_; }
    uint64_t disk_bytes() const { return index_len_ + chunks_len_; }
    // Removes the folder once the last reader lets go.
    void Delete() { deleted_ = true; }

private:
    Block() = default;
    std::string path_;
    BlockMeta meta_;
    const char* index_ = nullptr;
    const char* chunks_ = nullptr;
    size_t index_len_ = 0, chunks_len_ = 0;
    bool deleted_ = false;
};

}  // namespace hangar::metrics
