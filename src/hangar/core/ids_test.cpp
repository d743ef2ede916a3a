#include "hangar/core/ids.hpp"

#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "hangar/core/audit_chain.hpp"

namespace hangar::core {

TEST(Ids, HavePrefixAndAreUnique) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        std::string id = NewId("ten");
        EXPECT_TRUE(IsValidId(id, "ten")) << id;
        EXPECT_FALSE(IsValidId(id, "usr"));
        EXPECT_TRUE(seen.insert(id).second);
    }
    EXPECT_FALSE(IsValidId("ten_", "ten"));
    std::string earlier = NewId("ten");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_LT(earlier, NewId("ten")) << "ids sort by creation time";
    EXPECT_FALSE(IsValidId("ten_ILLEGALCHARACTERS!!!", "ten"));
    EXPECT_FALSE(IsValidId("../../etc/passwd", "ten"));
}

TEST(Tokens, AreLongRandomAndHashStably) {
    std::string a = NewSecretToken();
    std::string b = NewSecretToken();
    EXPECT_NE(a, b);
    EXPECT_TRUE(a.starts_with("hgr_"));
    EXPECT_GE(a.size(), 40U);
    EXPECT_EQ(Sha256Hex(a), Sha256Hex(a));
    EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_TRUE(SecretEquals(a, a));
    EXPECT_FALSE(SecretEquals(a, b));
}

TEST(Base64Url, RoundTripsAndRejectsJunk) {
    std::string out;
    ASSERT_TRUE(Base64UrlDecode(Base64UrlEncode("ten_abc"), out));
    EXPECT_EQ(out, "ten_abc");
    EXPECT_FALSE(Base64UrlDecode("!!!", out));
}

TEST(AuditChain, AnyChangedFieldChangesTheHash) {
    AuditFields e{
        1,
        "2026-11-23T08:00:00.000Z",
        "token:tok_a",
        "ten_a",
        "tenant.create",
        "ten_b",
        "req_1",
        "127.0.0.1:1",
        "success"};
    std::string h = AuditChainHash(kAuditGenesisHash, e);
    EXPECT_EQ(h.size(), 64U);
    EXPECT_EQ(h, AuditChainHash(kAuditGenesisHash, e));
    AuditFields edited = e;
    edited.outcome = "forbidden";
    EXPECT_NE(h, AuditChainHash(kAuditGenesisHash, edited));
    EXPECT_NE(h, AuditChainHash(h, e));
    // Length prefixes: moving a character between fields changes the hash.
    AuditFields shifted = e;
    shifted.actor = "token:tok_";
    shifted.tenant = "aten_a";
    EXPECT_NE(h, AuditChainHash(kAuditGenesisHash, shifted));
}

}  // namespace hangar::core
