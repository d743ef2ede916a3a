#include "hangar/marketplace/package.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <zip.h>

#include "server_process.hpp"

namespace hangar::marketplace {
namespace {

// A zip of `files` (name, bytes), built with libzip as any packager would.
std::string Zip(const std::vector<std::pair<std::string, std::string>>& files) {
    ::hangar::testing::TempDir dir;
    std::string path = dir.path() + "/p.zip";
    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    EXPECT_NE(z, nullptr);
    for (const auto& [name, bytes] : files) {
        zip_source_t* s = zip_source_buffer(z, bytes.data(), bytes.size(), 0);
        EXPECT_GE(zip_file_add(z, name.c_str(), s, ZIP_FL_OVERWRITE), 0);
    }
    EXPECT_EQ(zip_close(z), 0);
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const std::string kManifest = R"({
  "id": "c33fa1a6-68a7-491e-bf49-9d7b99671c48",
  "version": "1.2.0",
  "requiredApiVersion": "^1.19.0",
  "iconFile": "icon.png",
  "author": {"name": "Acme", "homepage": "https://acme.test", "support": "https://acme.test/help"},
  "name": "Poll Bot",
  "classFile": "PollBotApp.js",
  "description": "Polls in any room.",
  "implements": ["IPostMessageSent"],
  "permissions": [{"name": "message.read"}]
})";

TEST(AppPackage, AManifestAndItsIconAreRead) {
    auto p = ReadAppPackage(
        Zip({{"app.json", kManifest}, {"icon.png", "\x89PNG..."}, {"PollBotApp.js", "x"}})
    );
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->id, "c33fa1a6-68a7-491e-bf49-9d7b99671c48");
    EXPECT_EQ(p->name_slug, "poll-bot");
    EXPECT_EQ(p->version, "1.2.0");
    EXPECT_EQ(p->required_api_version, "^1.19.0");
    EXPECT_EQ(p->author.at("name"), "Acme");
    EXPECT_EQ(p->permissions.size(), 1U);
    EXPECT_TRUE(p->icon_data.starts_with("data:image/png;base64,iVBORy4uLg")) << p->icon_data;
}

TEST(AppPackage, BadPackagesAreRefusedNamingWhy) {
    auto with = [](std::string_view from, std::string_view to) {
        std::string m = kManifest;
        m.replace(m.find(from), from.size(), to);
        return m;
    };
    const std::pair<std::string, std::string> cases[] = {
        {"not a zip at all", "not a zip"},
        {std::string("PK\x03\x04") + std::string(40, 'x'), "not a valid zip"},
        {Zip({{"readme.txt", "hi"}}), "no app.json"},
        {Zip({{"app.json", "[1,2]"}}), "app.json is not a JSON object"},
        {Zip({{"app.json", with("\"1.2.0\"", "\"one\"")}}), "app.json: version"},
        {Zip({{"app.json", with("c33fa1a6-68a7-491e-bf49-9d7b99671c48", "nope")}}), "app.json: id"},
        {Zip({{"app.json", with("\"^1.19.0\"", "\"latest\"")}}), "app.json: requiredApiVersion"},
        {Zip({{"app.json", with("\"name\": \"Acme\", ", "")}}), "app.json: author"},
        {Zip({{"app.json", with("\"classFile\": \"PollBotApp.js\",", "")}}), "app.json: classFile"},
        // A bomb: 20 MiB of spaces compress to a few KB; it is refused before it is inflated.
        {Zip({{"app.json", std::string(20 << 20, ' ')}}), "larger than"},
    };
    for (const auto& [zip, why] : cases) {
        auto p = ReadAppPackage(zip);
        ASSERT_FALSE(p) << why;
        EXPECT_NE(p.error().message.find(why), std::string::npos) << p.error().message;
    }
}

TEST(AppPackage, VersionsAndEngineRanges) {
    EXPECT_EQ(ParseVersion("1.45.0-alpha.3"), (Version{1, 45, 0}));
    EXPECT_EQ(ParseVersion("v2"), (Version{2, 0, 0}));
    EXPECT_FALSE(ParseVersion("1.x"));
    EXPECT_FALSE(ParseVersion(""));
    Version engine{1, 45, 0};
    EXPECT_TRUE(EngineSatisfies(engine, "^1.19.0"));
    EXPECT_TRUE(EngineSatisfies(engine, "1.45.0"));
    EXPECT_FALSE(EngineSatisfies(engine, "^1.46.0"));
    EXPECT_FALSE(EngineSatisfies(engine, "^2.0.0"));
    EXPECT_TRUE(EngineSatisfies(engine, ">=1.0.0"));
    EXPECT_FALSE(EngineSatisfies(engine, "~1.44.0"));
    EXPECT_FALSE(EngineSatisfies(engine, "junk"));
}

}  // namespace
}  // namespace hangar::marketplace
