#include "fake_h2_server.hpp"

#include <csignal>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hangar::testing {

namespace {

// What `write` puts into a memory BIO, as a string (PEM text).
template <typename Write>
std::string Pem(Write write) {
    BIO* b = BIO_new(BIO_s_mem());
    write(b);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    std::string out(data, static_cast<size_t>(n));
    BIO_free(b);
    return out;
}

std::string PemOf(EVP_PKEY* key, bool is_private) {
    return Pem([&](BIO* b) {
        if (is_private) {
            PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
        } else {
            PEM_write_bio_PUBKEY(b, key);
        }
    });
}

std::string CertPem(X509* x) {
    return Pem([&](BIO* b) { PEM_write_bio_X509(b, x); });
}

X509* MakeCert(
    EVP_PKEY* key,
    EVP_PKEY* issuer_key,
    X509* issuer,
    const char* cn,
    bool ca,
    long serial
) {
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 7 * 24 * 3600);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0
    );
    X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer != nullptr ? issuer : x, x, nullptr, nullptr, 0);
    auto ext = [&](int nid, const char* value) {
        X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    };
    if (ca) {
        ext(NID_basic_constraints, "critical,CA:TRUE");
        ext(NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        ext(NID_basic_constraints, "CA:FALSE");
        ext(NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
        ext(NID_ext_key_usage, "serverAuth");
    }
    X509_sign(x, issuer_key, EVP_sha256());
    return x;
}

std::string B64UrlDecode(std::string in) {
    for (char& c : in) {
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    while (in.size() % 4 != 0) {
        in.push_back('=');
    }
    std::string out(in.size(), '\0');
    int n = EVP_DecodeBlock(
        reinterpret_cast<unsigned char*>(out.data()),
        reinterpret_cast<const unsigned char*>(in.data()),
        static_cast<int>(in.size())
    );
    if (n < 0) {
        return {};
    }
    size_t pad =
        in.size() >= 2 && in[in.size() - 1] == '=' ? (in[in.size() - 2] == '=' ? 2 : 1) : 0;
    out.resize(static_cast<size_t>(n) - pad);
    return out;
}

struct Stream {
    H2ServerRequest req;
    std::string out;
    size_t off = 0;
};

struct Session {
    FakeH2Server::Handler* handler;
    std::atomic<int>* goaway_after;
    std::unordered_map<int32_t, std::unique_ptr<Stream>> streams;
    int handled = 0;
    bool goaway_sent = false;
    nghttp2_session* session = nullptr;
};

ssize_t
ReadOut(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags, nghttp2_data_source* source, void*) {
    auto* s = static_cast<Stream*>(source->ptr);
    size_t n = std::min(length, s->out.size() - s->off);
    std::memcpy(buf, s->out.data() + s->off, n);
    s->off += n;
    if (s->off == s->out.size()) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return static_cast<ssize_t>(n);
}

void Respond(Session& ss, int32_t id) {
    auto it = ss.streams.find(id);
    if (it == ss.streams.end()) {
        return;
    }
    Stream& s = *it->second;
    H2ServerResponse r = (*ss.handler)(s.req);
    std::string status = std::to_string(r.status);
    std::vector<nghttp2_nv> nv;
    auto add = [&nv](const std::string& n, const std::string& v) {
        nv.push_back(nghttp2_nv{
            reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
            reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())),
            n.size(),
            v.size(),
            NGHTTP2_NV_FLAG_NONE});
    };
    static const std::string kStatus = ":status";
    add(kStatus, status);
    for (const auto& [k, v] : r.headers) {
        add(k, v);
    }
    s.out = std::move(r.body);
    nghttp2_data_provider dp{};
    dp.source.ptr = &s;
    dp.read_callback = ReadOut;
    nghttp2_submit_response(ss.session, id, nv.data(), nv.size(), s.out.empty() ? nullptr : &dp);
    ss.handled++;
    int after = ss.goaway_after->load();
    if (after > 0 && ss.handled >= after && !ss.goaway_sent) {
        ss.goaway_sent = true;
        nghttp2_submit_goaway(ss.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR, nullptr, 0);
    }
}

}  // namespace

void MakeEcKey(std::string& private_pem, std::string& public_pem) {
    EVP_PKEY* k = EVP_EC_gen("P-256");
    private_pem = PemOf(k, true);
    public_pem = PemOf(k, false);
    EVP_PKEY_free(k);
}

void MakeRsaKey(std::string& private_pem, std::string& public_pem) {
    EVP_PKEY* k = EVP_RSA_gen(2048);
    private_pem = PemOf(k, true);
    public_pem = PemOf(k, false);
    EVP_PKEY_free(k);
}

bool VerifyJwt(
    const std::string& jwt,
    const std::string& public_pem,
    std::string& header,
    std::string& claims
) {
    size_t d1 = jwt.find('.'), d2 = jwt.rfind('.');
    if (d1 == std::string::npos || d1 == d2) {
        return false;
    }
    header = B64UrlDecode(jwt.substr(0, d1));
    claims = B64UrlDecode(jwt.substr(d1 + 1, d2 - d1 - 1));
    std::string sig = B64UrlDecode(jwt.substr(d2 + 1));
    BIO* b = BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PUBKEY(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    if (key == nullptr) {
        return false;
    }
    if (header.find("\"ES256\"") != std::string::npos) {
        if (sig.size() != 64) {
            EVP_PKEY_free(key);
            return false;
        }
        ECDSA_SIG* es = ECDSA_SIG_new();
        ECDSA_SIG_set0(
            es,
            BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr),
            BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr)
        );
        unsigned char* der = nullptr;
        int len = i2d_ECDSA_SIG(es, &der);
        sig.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
        OPENSSL_free(der);
        ECDSA_SIG_free(es);
    } else if (header.find("\"RS256\"") == std::string::npos) {
        EVP_PKEY_free(key);
        return false;
    }
    std::string signed_part = jwt.substr(0, d2);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
              EVP_DigestVerify(
                  ctx,
                  reinterpret_cast<const unsigned char*>(sig.data()),
                  sig.size(),
                  reinterpret_cast<const unsigned char*>(signed_part.data()),
                  signed_part.size()
              ) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok;
}

FakeH2Server::FakeH2Server(std::string dir, Handler handler) : handler_(std::move(handler)) {
    std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up fails a write, not the test
    EVP_PKEY* ca_key = EVP_EC_gen("P-256");
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* ca = MakeCert(ca_key, ca_key, nullptr, "Hangar test CA", true, 1);
    X509* cert = MakeCert(key, ca_key, ca, "127.0.0.1", false, 2);
    ca_file_ = dir + "/ca.pem";
    std::ofstream(ca_file_) << CertPem(ca);
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_use_certificate(ctx, cert);
    SSL_CTX_use_PrivateKey(ctx, key);
    SSL_CTX_set_alpn_select_cb(
        ctx,
        [](SSL*,
           const unsigned char** out,
           unsigned char* outlen,
           const unsigned char* in,
           unsigned int inlen,
           void*) {
            unsigned char* sel = nullptr;
            if (nghttp2_select_next_protocol(&sel, outlen, in, inlen) != 1) {
                return SSL_TLSEXT_ERR_NOACK;
            }
            *out = sel;
            return SSL_TLSEXT_ERR_OK;
        },
        nullptr
    );
    ctx_ = ctx;
    X509_free(cert);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);

    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_fd_, 64) != 0) {
        throw std::runtime_error("fake h2 server: cannot listen");
    }
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
}

FakeH2Server::~FakeH2Server() {
    stop_ = true;
    acceptor_.join();
    {
        std::lock_guard lock(mu_);
        for (auto& t : workers_) {
            t.join();
        }
    }
    ::close(listen_fd_);
    SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
}

void FakeH2Server::Accept() {
    while (!stop_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) {
            continue;
        }
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        connections_++;
        std::lock_guard lock(mu_);
        workers_.emplace_back([this, fd] { Serve(fd); });
    }
}

void FakeH2Server::Serve(int fd) {
    SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ctx_));
    SSL_set_fd(ssl, fd);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (SSL_accept(ssl) != 1) {
        SSL_free(ssl);
        ::close(fd);
        return;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    Session ss{&handler_, &goaway_after_, {}, 0, false, nullptr};
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(
        cbs,
        [](nghttp2_session*, const nghttp2_frame* f, void* u) {
            if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
                static_cast<Session*>(u)->streams[f->hd.stream_id] = std::make_unique<Stream>();
            }
            return 0;
        }
    );
    nghttp2_session_callbacks_set_on_header_callback(
        cbs,
        [](nghttp2_session*,
           const nghttp2_frame* f,
           const uint8_t* n,
           size_t nl,
           const uint8_t* v,
           size_t vl,
           uint8_t,
           void* u) {
            auto* ss = static_cast<Session*>(u);
            auto it = ss->streams.find(f->hd.stream_id);
            if (it == ss->streams.end()) {
                return 0;
            }
            std::string name(reinterpret_cast<const char*>(n), nl),
                value(reinterpret_cast<const char*>(v), vl);
            if (name == ":method") {
                it->second->req.method = value;
            } else if (name == ":path") {
                it->second->req.path = value;
            } else {
                it->second->req.headers[name] = value;
            }
            return 0;
        }
    );
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cbs,
        [](nghttp2_session*, uint8_t, int32_t id, const uint8_t* d, size_t len, void* u) {
            auto* ss = static_cast<Session*>(u);
            if (auto it = ss->streams.find(id); it != ss->streams.end()) {
                it->second->req.body.append(reinterpret_cast<const char*>(d), len);
            }
            return 0;
        }
    );
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        cbs,
        [](nghttp2_session*, const nghttp2_frame* f, void* u) {
            if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
                (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
                Respond(*static_cast<Session*>(u), f->hd.stream_id);
            }
            return 0;
        }
    );
    nghttp2_session_callbacks_set_on_stream_close_callback(
        cbs,
        [](nghttp2_session*, int32_t id, uint32_t, void* u) {
            static_cast<Session*>(u)->streams.erase(id);
            return 0;
        }
    );
    nghttp2_session_server_new(&ss.session, cbs, &ss);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
    nghttp2_submit_settings(ss.session, NGHTTP2_FLAG_NONE, settings, 2);
    std::string out;
    char buf[16384];
    bool dead = false;
    while (!stop_ && !dead) {
        for (;;) {
            const uint8_t* data = nullptr;
            ssize_t n = nghttp2_session_mem_send(ss.session, &data);
            if (n <= 0) {
                break;
            }
            out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
        }
        while (!out.empty()) {
            int n = SSL_write(ssl, out.data(), static_cast<int>(out.size()));
            if (n <= 0) {
                int e = SSL_get_error(ssl, n);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                    pollfd p{fd, POLLOUT, 0};
                    ::poll(&p, 1, 100);
                    continue;
                }
                dead = true;
                break;
            }
            out.erase(0, static_cast<size_t>(n));
        }
        if (nghttp2_session_want_read(ss.session) == 0 &&
            nghttp2_session_want_write(ss.session) == 0) {
            break;
        }
        pollfd p{fd, POLLIN, 0};
        if (SSL_pending(ssl) == 0 && ::poll(&p, 1, 100) <= 0) {
            continue;
        }
        for (;;) {
            int n = SSL_read(ssl, buf, sizeof buf);
            if (n <= 0) {
                int e = SSL_get_error(ssl, n);
                if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                    dead = true;
                }
                break;
            }
            if (nghttp2_session_mem_recv(
                    ss.session, reinterpret_cast<uint8_t*>(buf), static_cast<size_t>(n)
                ) < 0) {
                dead = true;
                break;
            }
        }
    }
    nghttp2_session_del(ss.session);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    ::close(fd);
}

}  // namespace hangar::testing
