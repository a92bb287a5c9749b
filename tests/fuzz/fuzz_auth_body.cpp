// SPDX-License-Identifier: MIT
// libFuzzer target: the body parsing of POST /auth/login, /auth/refresh and /auth/logout
// (server/src/app/authapi). For any input:
//  1. parseLoginBody / parseRefreshBody never crash, and what they accept keeps the limits:
//     non-empty strings, username <= 256 bytes, password <= 1024, refresh token <= 512, valid
//     UTF-8 (from the JSON parser), bodies <= 8 KiB;
//  2. what they accept round-trips: the fields serialized back into a body parse to the same;
//  3. a refused body gets an error message, and the message never contains the input's
//     password (errors must not echo secrets).
#include "app/authapi.h"
#include "fuzz_common.h"

#include <heliograph/protocol/json.h>

namespace {

using namespace Heliograph::Server;
using HeliographFuzz::require;
using HeliographFuzz::view;

QByteArray loginBody(const LoginBody &b)
{
    Heliograph::Value v {Heliograph::ValueMap {}};
    v.insert("username", Heliograph::Value::fromUtf8(b.username));
    v.insert("password", Heliograph::Value::fromUtf8(b.password));
    return Heliograph::Json::serialize(v);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input = view(data, size);

    LoginBody login;
    QString error;
    if (parseLoginBody(input, login, error)) {
        require(input.size() <= MaxAuthBodySize, "accepted an oversized body", input);
        require(!login.username.isEmpty() && login.username.size() <= MaxLoginUsernameSize,
                "username out of limits", input);
        require(!login.password.isEmpty()
                    && login.password.size() <= PasswordHasher::MaxPasswordSize,
                "password out of limits", input);
        require(login.username.isValidUtf8() && login.password.isValidUtf8(), "not UTF-8", input);
        LoginBody again;
        QString error2;
        const QByteArray body = loginBody(login);
        require(body.size() > MaxAuthBodySize || parseLoginBody(body, again, error2),
                "re-serialized login body refused", body);
        require(body.size() > MaxAuthBodySize
                    || (again.username == login.username && again.password == login.password),
                "login body did not round-trip", body);
    } else {
        require(!error.isEmpty(), "refused without a message", input);
        // A password the parser got far enough to read is never echoed (checked for passwords
        // with a '#', which no error message holds).
        if (auto v = Heliograph::Json::parse(input, 8); v && v->isMap()) {
            const Heliograph::Value *pw = v->find("password", Qt::CaseInsensitive);
            if (pw && pw->isString() && pw->bytes().contains('#'))
                require(!error.toUtf8().contains(pw->bytes()), "error echoes the password", input);
        }
    }

    QByteArray token;
    error.clear();
    if (parseRefreshBody(input, token, error)) {
        require(!token.isEmpty() && token.size() <= MaxRefreshTokenSize,
                "refresh token out of limits", input);
        Heliograph::Value v {Heliograph::ValueMap {}};
        v.insert("refreshToken", Heliograph::Value::fromUtf8(token));
        QByteArray again;
        require(parseRefreshBody(Heliograph::Json::serialize(v), again, error) && again == token,
                "refresh body did not round-trip", input);
    } else {
        require(!error.isEmpty(), "refused without a message", input);
    }
    return 0;
}
