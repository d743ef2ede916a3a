#pragma once
// A loopback HTTP/2-over-TLS server (nghttp2, OpenSSL) for fakes of push providers: a thread
// per connection, a handler per request. It makes its own CA and a certificate for 127.0.0.1 at
// start, and writes the CA to a file clients can trust. GoAwayAfter(n) makes every connection
// send GOAWAY after n streams, as APNs does when it rotates connections.

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hangar::testing {

struct H2ServerRequest {
    std::string method, path;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

struct H2ServerResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

class FakeH2Server {
public:
    using Handler = std::function<H2ServerResponse(const H2ServerRequest&)>;
    // `dir` receives ca.pem.
    FakeH2Server(std::string dir, Handler handler);
    ~FakeH2Server();
    FakeH2Server(const FakeH2Server&) = delete;
    FakeH2Server& operator=(const FakeH2Server&) = delete;

    int port() const { return port_; }
    std::string Url() const { return "https://127.0.0.1:" + std::to_string(port_); }
    const std::string& CaFile() const { return ca_file_; }
    void GoAwayAfter(int streams) { goaway_after_ = streams; }
    int connections() const { return connections_.load(); }

private:
    void Accept();
    void Serve(int fd);
    std::string ca_file_;
    Handler handler_;
    void* ctx_ = nullptr;  // SSL_CTX
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> goaway_after_{0};
    std::atomic<int> connections_{0};
    std::thread acceptor_;
    std::mutex mu_;
    std::vector<std::thread> workers_;
};

// A fresh EC P-256 private key in PKCS#8 PEM (an APNs .p8 key) and its public key in PEM.
void MakeEcKey(std::string& private_pem, std::string& public_pem);
// A fresh RSA-2048 private key in PKCS#8 PEM (a service account's) and its public key in PEM.
void MakeRsaKey(std::string& private_pem, std::string& public_pem);
// Checks a JWT's signature (ES256 or RS256, by its header) against a public key in PEM; fills
// the decoded header and claims.
bool VerifyJwt(
    const std::string& jwt,
    const std::string& public_pem,
    std::string& header,
    std::string& claims
);

}  // namespace hangar::testing
