// SPDX-License-Identifier: MIT
// Test helper shared by the JWT suites: OpenSSL signs ECDSA as DER, a JWS (RFC 7518, 3.4) carries
// the raw r || s, 32 bytes each for P-256.
#pragma once

#include <QtCore/QByteArray>

#include <openssl/bn.h>
#include <openssl/ec.h>

namespace Heliograph::Testing {

inline QByteArray ecdsaDerToRaw(const QByteArray &der)
{
    const auto *p = reinterpret_cast<const unsigned char *>(der.constData());
    ECDSA_SIG *esig = d2i_ECDSA_SIG(nullptr, &p, long(der.size()));
    const BIGNUM *r = nullptr;
    const BIGNUM *s = nullptr;
    ECDSA_SIG_get0(esig, &r, &s);
    QByteArray raw(64, '\0');
    BN_bn2binpad(r, reinterpret_cast<unsigned char *>(raw.data()), 32);
    BN_bn2binpad(s, reinterpret_cast<unsigned char *>(raw.data()) + 32, 32);
    ECDSA_SIG_free(esig);
    return raw;
}

} // namespace Heliograph::Testing
