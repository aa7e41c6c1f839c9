#include "channels/wecom/crypto.hpp"

#include <algorithm>
#include <memory>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace duijie::channels::wecom {
namespace {

constexpr std::size_t kBlock = 32;  // WeCom pads to 32 bytes, not AES's 16
constexpr std::size_t kPrefix = 16;
constexpr std::size_t kHeader = kPrefix + 4;
// A callback body is small; refuse to even decode something absurd.
constexpr std::size_t kMaxCiphertextChars = 4 << 20;

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "wecom-crypto"; }
  std::string message(int ev) const override {
    switch (static_cast<CryptoErrc>(ev)) {
      case CryptoErrc::kValidateSignature:
        return "signature mismatch";
      case CryptoErrc::kParseXml:
        return "callback body could not be parsed";
      case CryptoErrc::kComputeSignature:
        return "signature could not be computed";
      case CryptoErrc::kIllegalAesKey:
        return "EncodingAESKey is invalid";
      case CryptoErrc::kValidateReceiveId:
        return "receive id does not match";
      case CryptoErrc::kEncryptAes:
        return "AES encryption failed";
      case CryptoErrc::kDecryptAes:
        return "AES decryption failed";
      case CryptoErrc::kIllegalBuffer:
        return "decrypted buffer is malformed";
      case CryptoErrc::kEncodeBase64:
        return "base64 encoding failed";
      case CryptoErrc::kDecodeBase64:
        return "ciphertext is not base64";
      case CryptoErrc::kGenReturnXml:
        return "reply could not be built";
    }
    return "unknown wecom crypto error";
  }
};

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

bool IsKeyChar(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

Error Fail(CryptoErrc code, const std::string& detail = {}) {
  std::string message = make_error_code(code).message();
  if (!detail.empty()) message += ": " + detail;
  return Error(make_error_code(code), std::move(message));
}

}  // namespace

const std::error_category& CryptoCategory() noexcept {
  static const Category kCategory;
  return kCategory;
}

std::error_code make_error_code(CryptoErrc e) noexcept { return {static_cast<int>(e), CryptoCategory()}; }

Result<Crypto> Crypto::Create(std::string token, std::string_view encoding_aes_key, std::string receive_id) {
  if (encoding_aes_key.size() != 43 || !std::all_of(encoding_aes_key.begin(), encoding_aes_key.end(), IsKeyChar)) {
    return Fail(CryptoErrc::kIllegalAesKey, "expected 43 characters from [A-Za-z0-9]");
  }
  // Decoded leniently on purpose: the 43rd character's low bits are usually not zero.
  const std::string padded = std::string(encoding_aes_key) + "=";
  std::array<unsigned char, 33> raw{};
  if (EVP_DecodeBlock(raw.data(), reinterpret_cast<const unsigned char*>(padded.data()), 44) != 33) {
    return Fail(CryptoErrc::kIllegalAesKey);
  }
  std::array<std::uint8_t, 32> key{};
  std::copy_n(raw.begin(), 32, key.begin());
  return Crypto(std::move(token), key, std::move(receive_id));
}

std::string Crypto::Sign(std::string_view timestamp, std::string_view nonce, std::string_view encrypt) const {
  std::array<std::string_view, 4> parts = {token_, timestamp, nonce, encrypt};
  std::sort(parts.begin(), parts.end());
  std::string joined;
  joined.reserve(parts[0].size() + parts[1].size() + parts[2].size() + parts[3].size());
  for (auto p : parts) joined.append(p);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(joined.data(), joined.size(), digest, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(std::size_t{2} * len, '\0');
  for (std::size_t i = 0; i < len; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return hex;
}

bool Crypto::Verify(std::string_view signature, std::string_view timestamp, std::string_view nonce,
                    std::string_view encrypt) const {
  const std::string expected = Sign(timestamp, nonce, encrypt);
  return ConstantTimeEquals(signature, expected);
}

Result<Opened> Crypto::Open(std::string_view encrypt) const {
  if (encrypt.size() > kMaxCiphertextChars) return Fail(CryptoErrc::kDecodeBase64, "ciphertext too large");
  const auto cipher = Base64Decode(encrypt);
  if (!cipher) return Fail(CryptoErrc::kDecodeBase64);
  if (cipher->empty() || cipher->size() % kBlock != 0) {
    return Fail(CryptoErrc::kDecryptAes, "ciphertext length is not a multiple of 32");
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  std::string plain(cipher->size(), '\0');
  int out1 = 0;
  int out2 = 0;
  // OpenSSL's own padding assumes 16-byte blocks and would reject WeCom's pad values above 16.
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key_.data(), key_.data()) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &out1,
                        reinterpret_cast<const unsigned char*>(cipher->data()),
                        static_cast<int>(cipher->size())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + out1, &out2) != 1) {
    return Fail(CryptoErrc::kDecryptAes);
  }
  plain.resize(static_cast<std::size_t>(out1) + static_cast<std::size_t>(out2));
  const auto pad = static_cast<std::size_t>(static_cast<unsigned char>(plain.back()));
  if (pad < 1 || pad > kBlock || plain.size() < kHeader + pad) return Fail(CryptoErrc::kIllegalBuffer, "bad padding");
  for (std::size_t i = plain.size() - pad; i < plain.size(); ++i) {
    if (static_cast<unsigned char>(plain[i]) != pad) return Fail(CryptoErrc::kIllegalBuffer, "bad padding");
  }
  const std::size_t body = plain.size() - pad;
  const auto* p = reinterpret_cast<const unsigned char*>(plain.data()) + kPrefix;
  const std::size_t msg_len = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) | (std::size_t{p[2]} << 8) | p[3];
  if (msg_len > body - kHeader) return Fail(CryptoErrc::kIllegalBuffer, "length field out of bounds");
  Opened opened;
  opened.message = plain.substr(kHeader, msg_len);
  opened.receive_id = plain.substr(kHeader + msg_len, body - kHeader - msg_len);
  return opened;
}

Result<std::string> Crypto::Decrypt(std::string_view encrypt) const {
  auto opened = Open(encrypt);
  if (!opened) return opened.error();
  if (opened->receive_id.size() != receive_id_.size() ||
      CRYPTO_memcmp(opened->receive_id.data(), receive_id_.data(), receive_id_.size()) != 0) {
    return Fail(CryptoErrc::kValidateReceiveId);
  }
  return std::move(opened->message);
}

std::string Crypto::Encrypt(std::string_view message, std::span<const std::uint8_t, 16> random) const {
  std::string plain;
  const std::size_t body = kHeader + message.size() + receive_id_.size();
  const std::size_t pad = kBlock - body % kBlock;
  plain.reserve(body + pad);
  plain.append(reinterpret_cast<const char*>(random.data()), random.size());
  const auto len = static_cast<std::uint32_t>(message.size());
  plain.push_back(static_cast<char>((len >> 24) & 0xFF));
  plain.push_back(static_cast<char>((len >> 16) & 0xFF));
  plain.push_back(static_cast<char>((len >> 8) & 0xFF));
  plain.push_back(static_cast<char>(len & 0xFF));
  plain.append(message);
  plain.append(receive_id_);
  plain.append(pad, static_cast<char>(pad));

  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  std::string cipher(plain.size(), '\0');
  int out1 = 0;
  int out2 = 0;
  // Failing here means OpenSSL itself is broken: not a value a caller could act on.
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key_.data(), key_.data()) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
      EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(cipher.data()), &out1,
                        reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(cipher.data()) + out1, &out2) != 1) {
    throw std::runtime_error("OpenSSL AES-256-CBC encryption failed");
  }
  cipher.resize(static_cast<std::size_t>(out1) + static_cast<std::size_t>(out2));
  return Base64Encode(cipher);
}

std::string Crypto::Encrypt(std::string_view message) const {
  std::array<std::uint8_t, 16> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
  return Encrypt(message, random);
}

std::string Crypto::ReplyXml(std::string_view message, std::string_view timestamp, std::string_view nonce) const {
  const std::string encrypted = Encrypt(message);
  const std::string signature = Sign(timestamp, nonce, encrypted);
  // Base64 and hex never contain "]]>", and timestamp/nonce are echoed only after validation.
  std::string xml;
  xml.reserve(encrypted.size() + 200);
  xml += "<xml>\n<Encrypt><![CDATA[";
  xml += encrypted;
  xml += "]]></Encrypt>\n<MsgSignature><![CDATA[";
  xml += signature;
  xml += "]]></MsgSignature>\n<TimeStamp>";
  xml += timestamp;
  xml += "</TimeStamp>\n<Nonce><![CDATA[";
  xml += nonce;
  xml += "]]></Nonce>\n</xml>";
  return xml;
}

}  // namespace duijie::channels::wecom
