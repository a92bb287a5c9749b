// SPDX-License-Identifier: MIT
// Password hashing for the users heliograph-server signs in: Argon2id (RFC 9106) through the
// reference library (libargon2), stored as PHC strings
// ("$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>", unpadded standard base64).
//
// Rules kept here: a fresh 16-byte salt from the operating system's CSPRNG for every hash;
// verification is libargon2's own (constant-time tag comparison); nothing here logs or puts a
// password or a hash in an error message.
#pragma once

#include "auth/jwt.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

#include <optional>

namespace Heliograph::Server {

/// Argon2id cost parameters. The defaults follow RFC 9106 section 4 / OWASP (64 MiB, 3 passes,
/// one lane); tests may use cheaper ones.
struct Argon2Parameters {
    quint32 memoryKiB = 64 * 1024; ///< m, at least 8 * parallelism
    quint32 iterations = 3; ///< t, at least 1
    quint32 parallelism = 1; ///< p, 1..16

    friend bool operator==(const Argon2Parameters &, const Argon2Parameters &) = default;
};

class PasswordHasher {
public:
    static constexpr qsizetype SaltSize = 16;
    static constexpr qsizetype HashSize = 32;
    /// Longer passwords are refused (hashing cost must not depend on what a client sends).
    static constexpr qsizetype MaxPasswordSize = 1024;

    explicit PasswordHasher(Argon2Parameters parameters = {});

    const Argon2Parameters &parameters() const noexcept { return m_parameters; }
    /// Empty if the parameters are usable, else why not.
    static QString checkParameters(const Argon2Parameters &parameters);

    /// A PHC string for `password` with a new random salt.
    AuthResult<QByteArray> hash(QByteArrayView password) const;
    /// A PHC string for `password` with the given salt (known-answer tests; production code
    /// uses hash()).
    static AuthResult<QByteArray> hashWithSalt(QByteArrayView password, QByteArrayView salt,
                                               const Argon2Parameters &parameters);
    /// True if `phc` is an Argon2id PHC string made from `password`. The parameters are the
    /// ones in the string; the tag comparison takes constant time.
    static bool verify(QByteArrayView phc, QByteArrayView password);
    /// Spends the time of one verification against a hash nobody has the password of, made
    /// with the dummy parameters: answers for unknown users take as long as those for known
    /// ones.
    void verifyDummy(QByteArrayView password) const;
    /// The parameters of the dummy hash (by default those of new hashes). A server whose stored
    /// hashes were made with other parameters sets theirs, or unknown users would answer at
    /// another speed than known ones. Not thread-safe: call before verifyDummy() is used.
    void setDummyParameters(const Argon2Parameters &parameters);
    const Argon2Parameters &dummyParameters() const noexcept { return m_dummyParameters; }

    /// The cost parameters of an Argon2id PHC string, if it is one.
    static std::optional<Argon2Parameters> parametersOf(QByteArrayView phc);
    /// True if `phc` was made with other parameters than parameters() (rehash on login).
    bool needsRehash(QByteArrayView phc) const;

private:
    Argon2Parameters m_parameters;
    Argon2Parameters m_dummyParameters;
    QByteArray m_dummyHash;
};

} // namespace Heliograph::Server
