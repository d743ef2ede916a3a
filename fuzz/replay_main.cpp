// Runs a fuzz target's LLVMFuzzerTestOneInput once per file, so that its seed corpus replays
// as an ordinary test under GCC (no libFuzzer): `NAME_replay fuzz/corpus/NAME`. Arguments are
// files or folders (a folder's files and the files of its sub-folders, one level down, in
// name order). Each file's path goes to stderr before it runs, so a crash names its input.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> FilesIn(const fs::path& dir, int depth) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.is_regular_file(ec)) {
            out.push_back(e.path());
        } else if (e.is_directory(ec) && depth > 0) {
            auto inner = FilesIn(e.path(), depth - 1);
            out.insert(out.end(), inner.begin(), inner.end());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        fs::path p(argv[i]);
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            auto inner = FilesIn(p, 1);
            files.insert(files.end(), inner.begin(), inner.end());
        } else if (fs::is_regular_file(p, ec)) {
            files.push_back(p);
        } else {
            std::fprintf(stderr, "%s: no such file or folder\n", argv[i]);
            return 2;
        }
    }
    size_t n = 0;
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        if (!in) {
            std::fprintf(stderr, "%s: cannot read\n", f.c_str());
            return 2;
        }
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::fprintf(stderr, "%s\n", f.c_str());
        LLVMFuzzerTestOneInput(
            reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()
        );  // NOLINT
        ++n;
    }
    std::printf("replayed %zu inputs\n", n);
    return 0;
}
