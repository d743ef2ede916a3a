#pragma once
// Prometheus remote-write 1.0: a snappy-compressed (block format) protobuf WriteRequest
// (prompb: timeseries = 1 { labels = 1 { name = 1, value = 2 }, samples = 2 { value = 1 double,
// timestamp = 2 int64 } }). Hand-decoded so that labels stay views into the request and a
// request costs no allocation per series; unknown fields (exemplars, histograms, metadata)
// are skipped as protobuf requires.

#include <span>
#include <string>
#include <string_view>

#include "hangar/core/error.hpp"
#include "hangar/metrics/tsdb.hpp"

namespace hangar::metrics {

// Uncompresses `body` into `raw` and fills `batch` with views into `raw`.
core::Result<void> DecodeWriteRequest(std::string_view body, std::string& raw, WriteBatch& batch);
// Decodes an already uncompressed protobuf WriteRequest.
core::Result<void> DecodeWriteRequestProto(std::string_view proto, WriteBatch& batch);

// The snappy-compressed protobuf for these series.
std::string EncodeWriteRequest(std::span<const SeriesData> series);
std::string EncodeWriteRequest(const WriteBatch& batch);

}  // namespace hangar::metrics
