#pragma once
// The audit log's hash chain, shared by the server (which appends) and the CLI (which
// verifies what the server hands it, so a verifier need not trust the server's own check).

#include <cstdint>
#include <string>
#include <string_view>

namespace hangar::core {

struct AuditFields {
    int64_t seq = 0;
    std::string time, actor, tenant, action, object, request_id, source, outcome;
};

// sha256(prev_hash, seq and every field, each length-prefixed so no two events collide).
std::string AuditChainHash(std::string_view prev_hash, const AuditFields& e);
inline constexpr std::string_view kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

}  // namespace hangar::core
