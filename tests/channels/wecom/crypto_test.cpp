#include "channels/wecom/crypto.hpp"

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <openssl/evp.h>

namespace duijie::channels::wecom {
namespace {

nlohmann::json Vectors() {
  std::ifstream in(std::string(DUIJIE_TEST_DATA_DIR) + "/channels/wecom/vectors.json");
  return nlohmann::json::parse(in);
}

std::array<std::uint8_t, 16> Hex16(const std::string& hex) {
  std::array<std::uint8_t, 16> out{};
  for (std::size_t i = 0; i < 16; ++i) out[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return out;
}

Crypto Make(const nlohmann::json& v) {
  auto c = Crypto::Create(v["token"], v["encoding_aes_key"].get<std::string>(), v["receiveid"]);
  EXPECT_TRUE(c) << v["id"];
  return *c;
}

// AES-256-CBC without any padding, to craft buffers a correct encryptor would never produce.
std::string SealRaw(const std::string& encoding_aes_key, const std::string& plain) {
  unsigned char k[33];
  const std::string padded = encoding_aes_key + "=";
  EVP_DecodeBlock(k, reinterpret_cast<const unsigned char*>(padded.data()), 44);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::string out(plain.size(), '\0');
  int n1 = 0;
  int n2 = 0;
  EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), nullptr, k, k);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &n1,
                    reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + n1, &n2);
  EVP_CIPHER_CTX_free(ctx);
  return Base64Encode(out);
}

TEST(WeComCrypto, EveryOfficialVectorSignsVerifiesDecryptsAndReEncryptsExactly) {
  const auto vectors = Vectors();
  ASSERT_EQ(vectors.size(), 16U);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["id"].get<std::string>());
    const auto crypto = Make(v);
    const std::string encrypt = v["encrypt"];
    EXPECT_EQ(crypto.Sign(v["timestamp"].get<std::string>(), v["nonce"].get<std::string>(), encrypt),
              v["msg_signature"]);
    EXPECT_TRUE(crypto.Verify(v["msg_signature"].get<std::string>(), v["timestamp"].get<std::string>(),
                              v["nonce"].get<std::string>(), encrypt));
    const auto opened = crypto.Open(encrypt);
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(opened->message, v["plaintext"]);
    EXPECT_EQ(opened->message.size(), v["plaintext_len"].get<std::size_t>());
    if (opened->receive_id == v["receiveid"]) {
      EXPECT_EQ(*crypto.Decrypt(encrypt), v["plaintext"]);
      // With the same 16-byte prefix our encryption reproduces the reference ciphertext byte for byte.
      EXPECT_EQ(crypto.Encrypt(v["plaintext"].get<std::string>(), Hex16(v["random_prefix_hex"])), encrypt);
    } else {
      // E2 is a signature-only vector whose ciphertext was sealed for another corp.
      EXPECT_EQ(v["id"], "E2");
      EXPECT_EQ(crypto.Decrypt(encrypt).error().code, CryptoErrc::kValidateReceiveId);
    }
  }
}

TEST(WeComCrypto, EchostrFromTheQueryDecodesAfterUrlDecoding) {
  for (const auto& v : Vectors()) {
    if (!v.contains("echostr_urlencoded")) continue;
    const auto crypto = Make(v);
    EXPECT_EQ(*crypto.Decrypt(v["encrypt"].get<std::string>()), v["plaintext"]);
  }
}

TEST(WeComCrypto, ForgedOrAlteredInputsAreRefusedWithTheirErrorCodes) {
  const auto vectors = Vectors();
  const auto& f1 = vectors[8];
  ASSERT_EQ(f1["id"], "F1");
  const auto crypto = Make(f1);
  std::string sig = f1["msg_signature"];
  sig[5] = sig[5] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(crypto.Verify(sig, f1["timestamp"].get<std::string>(), f1["nonce"].get<std::string>(),
                             f1["encrypt"].get<std::string>()));
  EXPECT_FALSE(crypto.Verify(f1["msg_signature"].get<std::string>(), f1["timestamp"].get<std::string>(), "437374424",
                             f1["encrypt"].get<std::string>()));
  EXPECT_FALSE(crypto.Verify("", "", "", ""));

  const std::string encrypt = f1["encrypt"];
  EXPECT_EQ(crypto.Decrypt(encrypt.substr(0, encrypt.size() - 4)).error().code, CryptoErrc::kDecryptAes);
  EXPECT_EQ(crypto.Decrypt(encrypt.substr(0, encrypt.size() - 1)).error().code, CryptoErrc::kDecodeBase64);
  EXPECT_EQ(crypto.Decrypt("not base64 at all!").error().code, CryptoErrc::kDecodeBase64);
  EXPECT_EQ(crypto.Decrypt("").error().code, CryptoErrc::kDecodeBase64);

  auto other = Crypto::Create(f1["token"], f1["encoding_aes_key"].get<std::string>(), "ww-someone-else");
  EXPECT_EQ(other->Decrypt(encrypt).error().code, CryptoErrc::kValidateReceiveId);
}

TEST(WeComCrypto, InvalidKeysAreRefused) {
  for (const std::string key :
       {"jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2CC",
        "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2$", ""}) {
    const auto c = Crypto::Create("t", key, "id");
    ASSERT_FALSE(c) << key;
    EXPECT_EQ(c.error().code, CryptoErrc::kIllegalAesKey);
  }
}

TEST(WeComCrypto, MalformedBuffersAreRefusedNotReadOutOfBounds) {
  const std::string key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
  const auto crypto = *Crypto::Create("QDG6eK", key, "wx5823bf96d3bd56c7");
  const std::string prefix(16, 'a');
  // Length field claims more than the buffer holds.
  std::string huge = prefix + std::string("\x7f\xff\xff\xff", 4) + "hello";
  huge.append(32 - huge.size() % 32, static_cast<char>(32 - huge.size() % 32));
  EXPECT_EQ(crypto.Decrypt(SealRaw(key, huge)).error().code, CryptoErrc::kIllegalBuffer);
  // Pad byte 0 and pad byte 33 are both invalid; so are pad bytes that disagree.
  std::string zero = prefix + std::string("\0\0\0\x01", 4) + "x" + std::string(43, '\0');
  EXPECT_EQ(crypto.Decrypt(SealRaw(key, zero)).error().code, CryptoErrc::kIllegalBuffer);
  std::string mixed = prefix + std::string("\0\0\0\x01", 4) + "x" + std::string(40, 'y') + "\x01\x02\x03";
  EXPECT_EQ(crypto.Decrypt(SealRaw(key, mixed)).error().code, CryptoErrc::kIllegalBuffer);
  // Too short for the header once the padding is removed.
  std::string tiny(32, static_cast<char>(20));
  EXPECT_EQ(crypto.Decrypt(SealRaw(key, tiny)).error().code, CryptoErrc::kIllegalBuffer);
}

TEST(WeComCrypto, RoundTripsChineseEmojiLongAndEmptyMessages) {
  const auto crypto = *Crypto::Create("tok", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "ww1436e0e65a779aee");
  for (const std::string& msg :
       {std::string("你好，科技专员😀"), std::string(2048, 'x'), std::string(), std::string("\0binary\xff", 8)}) {
    const auto sealed = crypto.Encrypt(msg);
    EXPECT_EQ(*crypto.Decrypt(sealed), msg);
    EXPECT_NE(crypto.Encrypt(msg), sealed);  // a fresh random prefix each time
  }
}

TEST(WeComCrypto, ReplyXmlCarriesAVerifiableSignature) {
  const auto crypto = *Crypto::Create("tok", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7");
  const auto xml = crypto.ReplyXml("<xml><Content>收到</Content></xml>", "1409659813", "1372623149");
  const auto between = [&](const std::string& open, const std::string& close) {
    const auto a = xml.find(open) + open.size();
    return xml.substr(a, xml.find(close, a) - a);
  };
  const auto encrypt = between("<Encrypt><![CDATA[", "]]>");
  const auto signature = between("<MsgSignature><![CDATA[", "]]>");
  EXPECT_TRUE(crypto.Verify(signature, "1409659813", "1372623149", encrypt));
  EXPECT_EQ(*crypto.Decrypt(encrypt), "<xml><Content>收到</Content></xml>");
  EXPECT_NE(xml.find("<TimeStamp>1409659813</TimeStamp>"), std::string::npos);
}

TEST(Base64, StrictDecoding) {
  EXPECT_EQ(*Base64Decode("aGk="), "hi");
  EXPECT_EQ(*Base64Decode("aGVsbG8h"), "hello!");
  EXPECT_FALSE(Base64Decode("aGk"));
  EXPECT_FALSE(Base64Decode("a=Gk"));
  EXPECT_FALSE(Base64Decode("aG k"));
  EXPECT_FALSE(Base64Decode("===="));
}

}  // namespace
}  // namespace duijie::channels::wecom
