#include "hangar/metrics/remote_write.hpp"

#include <bit>

#include <fmt/format.h>
#include <snappy.h>

#include "hangar/metrics/codec.hpp"

namespace hangar::metrics {

using core::ErrorCode;
using core::Fail;
using core::Result;

namespace {

constexpr size_t kMaxUncompressed = 64u << 20;

enum Wire : uint8_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

struct Field {
    uint32_t number = 0;
    uint8_t wire = 0;
    uint64_t varint = 0;
    std::string_view bytes;
};

// Reads one field; false at the end or on malformed input (`bad` set).
bool NextField(Decoder& d, Field& f, bool& bad) {
    if (d.empty()) {
        return false;
    }
    uint64_t key = 0;
    if (!d.Uvarint(key) || (key >> 3) == 0 || (key >> 3) > 0x1fffffff) {
        bad = true;
        return false;
    }
    f.number = static_cast<uint32_t>(key >> 3);
    f.wire = static_cast<uint8_t>(key & 7);
    bool ok = false;
    switch (f.wire) {
        case kVarint:
            ok = d.Uvarint(f.varint);
            break;
        case kFixed64:
            ok = d.Fixed64(f.varint);
            break;
        case kLen:
            ok = d.String(f.bytes);
            break;
        case kFixed32:
            ok = d.Bytes(4, f.bytes);
            break;
        default:
            ok = false;
    }
    if (!ok) {
        bad = true;
    }
    return ok;
}

void PutKey(std::string& out, uint32_t field, Wire w) {
    PutUvarint(out, (static_cast<uint64_t>(field) << 3) | w);
}

void PutSeries(
    std::string& out,
    std::string& tmp,
    std::span<const LabelView> labels,
    std::span<const Sample> samples
) {
    tmp.clear();
    std::string item;
    for (const auto& l : labels) {
        item.clear();
        PutKey(item, 1, kLen);
        PutString(item, l.name);
        PutKey(item, 2, kLen);
        PutString(item, l.value);
        PutKey(tmp, 1, kLen);
        PutString(tmp, item);
    }
    for (const auto& s : samples) {
        item.clear();
        PutKey(item, 1, kFixed64);
        PutDouble(item, s.v);
        PutKey(item, 2, kVarint);
        PutUvarint(item, static_cast<uint64_t>(s.t));
        PutKey(tmp, 2, kLen);
        PutString(tmp, item);
    }
    PutKey(out, 1, kLen);
    PutString(out, tmp);
}

}  // namespace

Result<void> DecodeWriteRequestProto(std::string_view proto, WriteBatch& batch) {
    batch.Clear();
    Decoder req(proto);
    Field f;
    bool bad = false;
    size_t index = 0;
    while (NextField(req, f, bad)) {
        if (f.number != 1) {
            continue;  // metadata and reserved fields
        }
        if (f.wire != kLen) {
            return Fail(
                ErrorCode::kInvalidArgument, "WriteRequest.timeseries has the wrong wire type"
            );
        }
        WriteBatch::Series entry{
            static_cast<uint32_t>(batch.labels.size()),
            0,
            static_cast<uint32_t>(batch.samples.size()),
            0};
        Decoder ts(f.bytes);
        Field g;
        while (NextField(ts, g, bad)) {
            if (g.number == 1 && g.wire == kLen) {
                LabelView l;
                Decoder ld(g.bytes);
                Field h;
                while (NextField(ld, h, bad)) {
                    if (h.wire == kLen && h.number == 1) {
                        l.name = h.bytes;
                    } else if (h.wire == kLen && h.number == 2) {
                        l.value = h.bytes;
                    }
                }
                if (bad) {
                    break;
                }
                batch.labels.push_back(l);
                ++entry.label_count;
            } else if (g.number == 2 && g.wire == kLen) {
                Sample s;
                Decoder sd(g.bytes);
                Field h;
                while (NextField(sd, h, bad)) {
                    if (h.number == 1 && h.wire == kFixed64) {
                        s.v = std::bit_cast<double>(h.varint);
                    } else if (h.number == 2 && h.wire == kVarint) {
                        s.t = static_cast<int64_t>(h.varint);
                    }
                }
                if (bad) {
                    break;
                }
                batch.samples.push_back(s);
                ++entry.sample_count;
            }
        }
        if (bad) {
            return Fail(
                ErrorCode::kInvalidArgument,
                fmt::format("timeseries {} is not valid protobuf", index)
            );
        }
        if (entry.label_count == 0) {
            return Fail(
                ErrorCode::kInvalidArgument, fmt::format("timeseries {} has no labels", index)
            );
        }
        batch.series.push_back(entry);
        ++index;
    }
    if (bad) {
        return Fail(ErrorCode::kInvalidArgument, "the body is not a valid protobuf WriteRequest");
    }
    return {};
}

Result<void> DecodeWriteRequest(std::string_view body, std::string& raw, WriteBatch& batch) {
    size_t n = 0;
    if (!snappy::GetUncompressedLength(body.data(), body.size(), &n)) {
        return Fail(
            ErrorCode::kInvalidArgument, "the body is not snappy-compressed (block format)"
        );
    }
    if (n > kMaxUncompressed) {
        return Fail(
            ErrorCode::kPayloadTooLarge,
            fmt::format(
                "the request uncompresses to {} bytes; the limit is {}", n, kMaxUncompressed
            )
        );
    }
    // Snappy's densest encoding (a 64-byte copy in 3 bytes) gives about 22 to 1: a body that
    // claims more is lying, and must not cost a 64 MiB buffer before that is found out.
    if (n > body.size() * 24 + 1024) {
        return Fail(
            ErrorCode::kInvalidArgument,
            "the body is not valid snappy data (it claims more than it could hold)"
        );
    }
    if (!snappy::IsValidCompressedBuffer(body.data(), body.size())) {
        return Fail(ErrorCode::kInvalidArgument, "the body is not valid snappy data");
    }
    raw.resize(n);
    if (!snappy::RawUncompress(body.data(), body.size(), raw.data())) {
        return Fail(ErrorCode::kInvalidArgument, "the body is not valid snappy data");
    }
    return DecodeWriteRequestProto(raw, batch);
}

std::string EncodeWriteRequest(std::span<const SeriesData> series) {
    std::string proto, tmp;
    std::vector<LabelView> views;
    for (const auto& s : series) {
        views.clear();
        for (const auto& l : s.labels) {
            views.push_back({l.name, l.value});
        }
        PutSeries(proto, tmp, views, s.samples);
    }
    std::string out;
    snappy::Compress(proto.data(), proto.size(), &out);
    return out;
}

std::string EncodeWriteRequest(const WriteBatch& batch) {
    std::string proto, tmp;
    for (const auto& e : batch.series) {
        PutSeries(
            proto,
            tmp,
            std::span(batch.labels).subspan(e.label_begin, e.label_count),
            std::span(batch.samples).subspan(e.sample_begin, e.sample_count)
        );
    }
    std::string out;
    snappy::Compress(proto.data(), proto.size(), &out);
    return out;
}

}  // namespace hangar::metrics
