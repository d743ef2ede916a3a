#pragma once
// Gorilla-style compressed chunks, laid out as Prometheus's XOR chunks: a 2-byte sample count,
// the first timestamp and value in full, then delta-of-delta timestamps in 1/16/20/24/68-bit
// buckets and XOR-encoded floats that reuse the previous leading/trailing zero window.
// Regular 15 s samples of a slowly moving value take about 1.4 bytes each.

#include <cstdint>
#include <string>
#include <string_view>

namespace hangar::metrics {

struct Sample {
    int64_t t = 0;  // milliseconds since the epoch
    double v = 0;
};

class ChunkWriter {
public:
    ChunkWriter();
    void Append(int64_t t, double v);
    uint16_t count() const { return count_; }
    int64_t min_time() const { return min_t_; }
    int64_t max_time() const { return t_; }
    const std::string& bytes() const { return buf_; }
    // Releases the encoded bytes and starts an empty chunk.
    std::string Take();

private:
    void PutBit(bool bit);
    void PutBits(uint64_t value, int n);
    void PutVarint(int64_t v);
    void PutUvarint(uint64_t v);
    void PutValue(double v);

    std::string buf_;
    int free_ = 0;  // unused low bits in the last byte
    uint16_t count_ = 0;
    int64_t min_t_ = 0, t_ = 0, t_delta_ = 0;
    uint64_t v_bits_ = 0;
    uint8_t leading_ = 0xff, trailing_ = 0;
};

// Walks a chunk's bytes. Next() returns false at the end or on malformed bytes (error() says).
class ChunkIterator {
public:
    explicit ChunkIterator(std::string_view bytes);
    bool Next();
    int64_t t() const { return t_; }
    double v() const;
    bool error() const { return error_; }

private:
    bool Bit(bool& out);
    bool Bits(int n, uint64_t& out);
    bool Varint(int64_t& out);
    bool Uvarint(uint64_t& out);
    bool ReadValue();

    std::string_view b_;
    size_t pos_ = 2;  // bit position is pos_ * 8 + bit_
    int bit_ = 0;
    uint16_t total_ = 0, read_ = 0;
    int64_t t_ = 0, t_delta_ = 0;
    uint64_t v_bits_ = 0;
    uint8_t leading_ = 0, trailing_ = 0;
    bool error_ = false;
};

}  // namespace hangar::metrics
