#pragma once
// OpenSSL asks for a passphrase when it meets an encrypted PEM key and no callback was given
// (PrivateKey::FromPem passes none): its default UI reads /dev/tty, or stdin without one, and
// the fuzzer would wait there. This installs, once, a default UI whose every read fails, which
// is what a server without a terminal gets: the key is refused and nothing is decrypted.

#include <openssl/ui.h>

namespace hangar::fuzz {

inline void RefusePassphrasePrompts() {
    static const bool installed = [] {
        UI_METHOD* m = UI_create_method("hangar-fuzz: no passphrase prompts");
        UI_method_set_reader(m, [](UI*, UI_STRING*) { return 0; });
        UI_set_default_method(m);
        return true;
    }();
    (void)installed;
}

}  // namespace hangar::fuzz
