// Digest authentication (tspi/sip/digest.hpp): published vectors (RFC 2617 §3.5, RFC 7616 §3.9.1,
// RFC 2069 §2.4 as corrected by its erratum), challenge parsing and choice (RFC 8760 §2.4), and the
// per-account client state.
#include <tspi/sip/digest.hpp>
#include <tspi/sip/headers.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <string_view>
#include <vector>

using namespace tspi::sip;

namespace {

digest_challenge parse_ok(std::string_view text) {
  std::error_code ec;
  auto c = parse_digest_challenge(text, ec);
  INFO(text << " -> " << ec.message());
  REQUIRE(c);
  CHECK_FALSE(ec);
  return *c;
}

std::error_code parse_error(std::string_view text) {
  std::error_code ec;
  auto c = parse_digest_challenge(text, ec);
  CHECK_FALSE(c);
  return ec;
}

digest_response response_of(const message& request, std::string_view header) {
  auto value = request.header(header);
  REQUIRE(value);
  std::error_code ec;
  auto r = parse_digest_response(*value, ec);
  INFO(*value << " -> " << ec.message());
  REQUIRE(r);
  return *r;
}

message response_with(int status, std::string_view header, std::vector<std::string> values) {
  message m;
  m.status = status;
  m.reason = std::string(reason_phrase(status));
  for (auto& v : values) m.add(std::string(header), std::move(v));
  return m;
}

message register_request() {
  message m;
  m.method = "REGISTER";
  m.request_uri = "sip:biloxi.com";
  m.add("Call-ID", "843817637684230@998sdasdh09");
  return m;
}

constexpr std::string_view rfc7616_sha256 =
    R"(Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")";
constexpr std::string_view rfc7616_md5 =
    R"(Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")";
constexpr std::string_view rfc7616_cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

}  // namespace

TEST_CASE("RFC 2617 §3.5: MD5 with qop=auth gives the published response", "[tspi][sip][digest]") {
  const auto c = parse_ok(
      R"(Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41")");
  CHECK(c.realm == "testrealm@host.com");
  CHECK(c.nonce == "dcd98b7102dd2f0e8b11d0f600bfb0c093");
  REQUIRE(c.opaque);
  CHECK(*c.opaque == "5ccc069c403ebaf9f0171e9517f40e41");
  CHECK(c.algorithm == digest_algorithm::md5);  // absent: MD5
  CHECK(c.qop_auth);
  CHECK(c.qop_auth_int);
  CHECK_FALSE(c.stale);

  std::error_code ec;
  auto r = make_digest_response(c, {"Mufasa", "Circle Of Life"}, "GET", "/dir/index.html", "", "0a4f113b", 1, ec);
  REQUIRE(r);
  CHECK_FALSE(ec);
  CHECK(r->response == "6629fae49393a05397450978507c4ef1");
  CHECK(r->qop == "auth");  // auth preferred over auth-int when both are offered
  const auto text = r->to_string();
  CHECK(text.rfind("Digest ", 0) == 0);
  for (std::string_view part : {R"(username="Mufasa")", R"(realm="testrealm@host.com")", R"(nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093")",
                                R"(uri="/dir/index.html")", "qop=auth", "nc=00000001", R"(cnonce="0a4f113b")",
                                R"(response="6629fae49393a05397450978507c4ef1")", R"(opaque="5ccc069c403ebaf9f0171e9517f40e41")",
                                "algorithm=MD5"})
    CHECK(text.find(part) != std::string::npos);
  // The RFC's own Authorization header parses to the same credentials, and verifies.
  auto theirs = parse_digest_response(
      R"(Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41")",
      ec);
  REQUIRE(theirs);
  CHECK(*theirs == *r);
  CHECK(verify_digest_response(*theirs, "Circle Of Life", "GET"));
  CHECK_FALSE(verify_digest_response(*theirs, "Circle of Life", "GET"));
  CHECK_FALSE(verify_digest_response(*theirs, "Circle Of Life", "POST"));
}

TEST_CASE("RFC 7616 §3.9.1: SHA-256 and MD5 responses, and SHA-256 is chosen", "[tspi][sip][digest]") {
  const digest_credentials mufasa{"Mufasa", "Circle of Life"};
  std::error_code ec;
  const std::vector<std::string_view> both{rfc7616_sha256, rfc7616_md5};
  auto chosen = select_digest_challenge(both, ec);
  REQUIRE(chosen);
  CHECK_FALSE(ec);
  CHECK(chosen->algorithm == digest_algorithm::sha256);
  // RFC 8760 §2.4: the strongest supported wins whatever the order.
  const std::vector<std::string_view> reversed{rfc7616_md5, rfc7616_sha256};
  auto chosen2 = select_digest_challenge(reversed, ec);
  REQUIRE(chosen2);
  CHECK(chosen2->algorithm == digest_algorithm::sha256);
  CHECK(*chosen2 == *chosen);

  auto sha = make_digest_response(*chosen, mufasa, "GET", "/dir/index.html", "", rfc7616_cnonce, 1, ec);
  REQUIRE(sha);
  CHECK(sha->response == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
  CHECK(sha->to_string().find("algorithm=SHA-256") != std::string::npos);
  CHECK(verify_digest_response(*sha, "Circle of Life", "GET"));

  auto md5 = make_digest_response(parse_ok(rfc7616_md5), mufasa, "GET", "/dir/index.html", "", rfc7616_cnonce, 1, ec);
  REQUIRE(md5);
  CHECK(md5->response == "8ca523f5e9506fed4657c9700eebdbec");

  // Both challenges in one header value (RFC 7235 §4.1 1#challenge) parse as two.
  const std::string joined = std::string(rfc7616_md5) + ", " + std::string(rfc7616_sha256);
  const std::vector<std::string_view> one_value{joined};
  auto all = parse_digest_challenges(one_value, ec);
  REQUIRE(all.size() == 2);
  CHECK(all[0].algorithm == digest_algorithm::md5);
  CHECK(all[1].algorithm == digest_algorithm::sha256);
  CHECK(select_digest_challenge(one_value, ec)->algorithm == digest_algorithm::sha256);
}

TEST_CASE("without qop the response is RFC 2069's (erratum-corrected) and carries no cnonce or nc", "[tspi][sip][digest]") {
  const auto c = parse_ok(
      R"(Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41")");
  CHECK_FALSE(c.has_qop());
  std::error_code ec;
  auto r = make_digest_response(c, {"Mufasa", "CircleOfLife"}, "GET", "/dir/index.html", "", "ignored", 7, ec);
  REQUIRE(r);
  // RFC 2069 §2.4 prints e966c932...; errata ID 749 corrects it to this value.
  CHECK(r->response == "1949323746fe6a43ef61f9606e7febea");
  CHECK(r->qop.empty());
  CHECK(r->cnonce.empty());
  CHECK(r->nc == 0);
  const auto text = r->to_string();
  CHECK(text.find("cnonce") == std::string::npos);
  CHECK(text.find("nc=") == std::string::npos);
  CHECK(text.find("qop") == std::string::npos);
  auto back = parse_digest_response(text, ec);
  REQUIRE(back);
  CHECK(*back == *r);
  CHECK(verify_digest_response(*back, "CircleOfLife", "GET"));
}

TEST_CASE("session algorithms (-sess), auth-int and SHA-256 without qop (vectors from Python's hashlib)", "[tspi][sip][digest]") {
  // Independent reference: the RFC 7616 §3.4 formulas evaluated with Python's hashlib.
  const digest_credentials bob{"bob", "zanzibar"};
  std::error_code ec;
  auto md5_sess = parse_ok(R"(Digest realm="biloxi.com", nonce="84a4cc6f3082121f32b42a2187831a9e", algorithm=MD5-sess, qop="auth")");
  CHECK(md5_sess.algorithm == digest_algorithm::md5_sess);
  auto r = make_digest_response(md5_sess, bob, "REGISTER", "sip:biloxi.com", "", "0a4f113b", 1, ec);
  REQUIRE(r);
  CHECK(r->response == "eb77e5bd0f71f91a4bf1f89e8b897e32");

  auto sha_sess = parse_ok(R"(Digest realm="biloxi.com", nonce="84a4cc6f3082121f32b42a2187831a9e", algorithm=sha-256-SESS, qop=auth)");
  CHECK(sha_sess.algorithm == digest_algorithm::sha256_sess);
  r = make_digest_response(sha_sess, bob, "REGISTER", "sip:biloxi.com", "", "0a4f113b", 1, ec);
  REQUIRE(r);
  CHECK(r->response == "de1453f65550d25c49d9059f6fbdc22b1ce81e17eef74145d8f058c15e1d6837");
  CHECK(r->to_string().find("algorithm=SHA-256-sess") != std::string::npos);

  auto auth_int = parse_ok(R"(Digest realm="biloxi.com", nonce="84a4cc6f3082121f32b42a2187831a9e", algorithm=SHA-256, qop="auth-int")");
  r = make_digest_response(auth_int, bob, "INVITE", "sip:bob@biloxi.com", "v=0\r\n", "0a4f113b", 2, ec);
  REQUIRE(r);
  CHECK(r->qop == "auth-int");
  CHECK(r->response == "0bc866972c8b524356d1b0e0a38c0bb7e62fe0feea68880fee12cf347ca79166");
  CHECK(verify_digest_response(*r, "zanzibar", "INVITE", "v=0\r\n"));
  CHECK_FALSE(verify_digest_response(*r, "zanzibar", "INVITE", "v=1\r\n"));  // the body is covered

  auto sha_plain = parse_ok(R"(Digest realm="biloxi.com", nonce="84a4cc6f3082121f32b42a2187831a9e", algorithm=SHA-256)");
  r = make_digest_response(sha_plain, bob, "INVITE", "sip:bob@biloxi.com", "", "", 0, ec);
  REQUIRE(r);
  CHECK(r->response == "9b072c06c63aaa4a4c8888ac8d2153ff87b07cfb94126ef93fb6bd0c569217dc");

  auto md5_plain = parse_ok(R"(Digest realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093")");
  r = make_digest_response(md5_plain, bob, "INVITE", "sip:bob@biloxi.com", "", "", 0, ec);
  REQUIRE(r);
  CHECK(r->response == "bf57e4e0d0bffc0fbaedce64d59add5e");

  // A qop needs a cnonce and a non-zero nonce-count.
  CHECK_FALSE(make_digest_response(md5_sess, bob, "REGISTER", "sip:biloxi.com", "", "", 1, ec));
  CHECK(ec == digest_errc::missing_parameter);
  CHECK_FALSE(make_digest_response(md5_sess, bob, "REGISTER", "sip:biloxi.com", "", "abc", 0, ec));
  CHECK(ec == digest_errc::missing_parameter);
}

TEST_CASE("challenge syntax: quoting, escapes, whitespace, case", "[tspi][sip][digest]") {
  // Commas and escaped quotes inside quoted strings belong to the value.
  auto c = parse_ok(R"(Digest realm="a, b \"c\" \\d", nonce="n,1", opaque="x,y")");
  CHECK(c.realm == R"(a, b "c" \d)");
  CHECK(c.nonce == "n,1");
  CHECK(*c.opaque == "x,y");
  // Whitespace around '=' (SIP's EQUAL), line-folded looking spacing, case-insensitive names and values.
  c = parse_ok("dIgEsT   REALM = \"r\" ,NONCE=\t\"n\"  , Algorithm = sha-256 , QOP = \"AUTH\", Stale = TRUE");
  CHECK(c.realm == "r");
  CHECK(c.nonce == "n");
  CHECK(c.algorithm == digest_algorithm::sha256);
  CHECK(c.qop_auth);
  CHECK_FALSE(c.qop_auth_int);
  CHECK(c.stale);
  // Unquoted qop token, unknown qop values next to known ones, unknown directives, empty list elements.
  c = parse_ok(R"(Digest realm="r", nonce="n", qop=auth, domain="sip:a.example sip:b.example", charset=UTF-8, userhash=false, x-foo="1,2",, )");
  CHECK(c.qop_auth);
  c = parse_ok(R"(Digest realm="r", nonce="n", qop="auth-conf, auth-int")");
  CHECK(c.qop_auth_int);
  CHECK_FALSE(c.qop_auth);
  CHECK_FALSE(parse_ok(R"(Digest realm="r", nonce="n", stale=false)").stale);
  // Unquoted values that are not tokens (seen from deployed servers) are taken as written.
  CHECK(parse_ok(R"(Digest realm=biloxi.com, nonce=abc/def==)").nonce == "abc/def==");
  // An empty realm is a realm; an empty opaque is still echoed.
  c = parse_ok(R"(Digest realm="", nonce="n", opaque="")");
  CHECK(c.realm.empty());
  REQUIRE(c.opaque);
  CHECK(c.opaque->empty());
}

TEST_CASE("bad challenges are rejected with the reason", "[tspi][sip][digest]") {
  CHECK(parse_error(R"(Digest realm="r")") == digest_errc::missing_nonce);
  CHECK(parse_error(R"(Digest realm="r", nonce="")") == digest_errc::missing_nonce);
  CHECK(parse_error(R"(Digest nonce="n")") == digest_errc::missing_realm);
  CHECK(parse_error(R"(Digest realm="r", nonce="n", algorithm=SHA-512-256)") == digest_errc::unsupported_algorithm);
  CHECK(parse_error(R"(Digest realm="r", nonce="n", algorithm=AKAv1-MD5)") == digest_errc::unsupported_algorithm);
  CHECK(parse_error(R"(Digest realm="r", nonce="n", qop="auth-conf")") == digest_errc::unsupported_qop);
  CHECK(parse_error(R"(Digest realm="r", nonce="n", algorithm=MD5-sess)") == digest_errc::unsupported_qop);
  CHECK(parse_error(R"(Digest realm="r", nonce="n", nonce="m")") == digest_errc::duplicate_parameter);
  CHECK(parse_error(R"(Digest realm="r", nonce="n", opaque="a", opaque="a")") == digest_errc::duplicate_parameter);
  CHECK(parse_error(R"(Basic realm="r")") == digest_errc::not_digest);
  CHECK(parse_error(R"(Digest realm="r, nonce="n")") == digest_errc::malformed);  // unterminated quote
  CHECK(parse_error(R"(Digest realm="r", nonce)") == digest_errc::malformed);  // a bare word starts a second challenge
  CHECK(parse_error(R"(Digest realm="r", nonce="n", qop)") == digest_errc::malformed);
  CHECK(parse_error(R"(Digest realm="r", nonce="n" x)") == digest_errc::malformed);  // junk after a quoted value
  CHECK(parse_error(R"(Digest realm=r b, nonce="n")") == digest_errc::malformed);
  CHECK(parse_error(R"(Digest realm="r", nonce="n", ="v")") == digest_errc::malformed);
  CHECK(parse_error("") == digest_errc::malformed);
  CHECK(parse_error(R"(realm="r", nonce="n")") == digest_errc::malformed);  // no scheme
  CHECK(parse_error("Digest realm=\"r\", nonce=\"a\r\nb\"") == digest_errc::malformed);
  CHECK(parse_error(R"(Digest realm="r", nonce="n", Digest realm="s", nonce="m")") == digest_errc::malformed);  // two
  CHECK(make_error_code(digest_errc::missing_nonce).message() == "Digest challenge without nonce");
  CHECK(std::string(digest_category().name()) == "sip.digest");
}

TEST_CASE("choosing among challenges skips unknown algorithms and other schemes", "[tspi][sip][digest]") {
  std::error_code ec;
  const std::vector<std::string_view> values{
      R"(Basic realm="r")",
      R"(Digest realm="r", nonce="n1", algorithm=SHA-512-256, qop="auth")",
      R"(Negotiate abc123==, Digest realm="r", nonce="n2", algorithm=MD5, qop="auth")",
      R"(Digest realm="r", nonce="n3")",  // MD5 too, listed later: not chosen
  };
  auto c = select_digest_challenge(values, ec);
  REQUIRE(c);
  CHECK(c->nonce == "n2");
  CHECK(c->algorithm == digest_algorithm::md5);
  auto all = parse_digest_challenges(values, ec);
  REQUIRE(all.size() == 2);
  CHECK(all[1].nonce == "n3");

  const std::vector<std::string_view> unknown_only{R"(Digest realm="r", nonce="n1", algorithm=SHA-512-256)"};
  CHECK_FALSE(select_digest_challenge(unknown_only, ec));
  CHECK(ec == digest_errc::unsupported_algorithm);
  const std::vector<std::string_view> basic_only{R"(Basic realm="r")"};
  CHECK_FALSE(select_digest_challenge(basic_only, ec));
  CHECK(ec == digest_errc::no_challenge);
  CHECK_FALSE(select_digest_challenge({}, ec));
  CHECK(ec == digest_errc::no_challenge);

  const std::vector<std::string_view> two_realms{R"(Digest realm="a", nonce="1", algorithm=SHA-256)", R"(Digest realm="b", nonce="2")"};
  auto b = select_digest_challenge(two_realms, ec, "b");
  REQUIRE(b);
  CHECK(b->nonce == "2");
  CHECK_FALSE(select_digest_challenge(two_realms, ec, "c"));
  CHECK(ec == digest_errc::no_challenge);
}

TEST_CASE("challenges and credentials survive to_string and parse", "[tspi][sip][digest]") {
  digest_challenge c;
  c.realm = R"(weird "realm", with \ chars)";
  c.nonce = "abc=";
  c.opaque = "";
  c.algorithm = digest_algorithm::sha256_sess;
  c.qop_auth = true;
  c.qop_auth_int = true;
  c.stale = true;
  std::error_code ec;
  auto back = parse_digest_challenge(c.to_string(), ec);
  REQUIRE(back);
  CHECK(*back == c);
  c.qop_auth = false;
  c.opaque.reset();
  c.stale = false;
  c.algorithm = digest_algorithm::md5;
  back = parse_digest_challenge(c.to_string(), ec);
  REQUIRE(back);
  CHECK(*back == c);

  auto r = make_digest_response(c, {R"(us"er)", "pw"}, "INVITE", "sip:bob@biloxi.com;transport=tcp", "body", "c\"n", 0xfffffffe, ec);
  REQUIRE(r);
  CHECK(r->to_string().find("nc=fffffffe") != std::string::npos);
  auto rb = parse_digest_response(r->to_string(), ec);
  REQUIRE(rb);
  CHECK(*rb == *r);
  CHECK(verify_digest_response(*rb, "pw", "INVITE", "body"));
}

TEST_CASE("bad credentials are rejected with the reason", "[tspi][sip][digest]") {
  std::error_code ec;
  auto bad = [&ec](std::string_view text) {
    CHECK_FALSE(parse_digest_response(text, ec));
    return ec;
  };
  CHECK(bad(R"(Digest username="u", realm="r", nonce="n", response="0")") == digest_errc::missing_parameter);  // no uri
  CHECK(bad(R"(Digest username="u", realm="r", nonce="n", uri="sip:a", response="0", qop=auth, nc=00000001)") ==
        digest_errc::missing_parameter);  // no cnonce
  CHECK(bad(R"(Digest username="u", realm="r", nonce="n", uri="sip:a", response="0", qop=auth, cnonce="c", nc=1)") ==
        digest_errc::malformed);
  CHECK(bad(R"(Digest username="u", realm="r", nonce="n", uri="sip:a", response="0", nc=00000001, cnonce="c")") ==
        digest_errc::malformed);  // nc without qop
  CHECK(bad(R"(Digest username="u", realm="r", nonce="n", uri="sip:a", response="0", qop=auth-conf, cnonce="c", nc=00000001)") ==
        digest_errc::unsupported_qop);
  CHECK(bad(R"(Digest username="u", realm="r", nonce="n", uri="sip:a", response="0", algorithm=SHA-1)") ==
        digest_errc::unsupported_algorithm);
  CHECK(bad(R"(Digest username="u", username="v", realm="r", nonce="n", uri="sip:a", response="0")") ==
        digest_errc::duplicate_parameter);
  CHECK(bad(R"(Digest username="u", nonce="n", uri="sip:a", response="0")") == digest_errc::missing_realm);
  CHECK(bad(R"(Basic dXNlcjpwdw==)") == digest_errc::not_digest);
  // Upper-case hex in the response still verifies; a wrong digest does not.
  auto r = parse_digest_response(
      R"(Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629FAE49393A05397450978507C4EF1")",
      ec);
  REQUIRE(r);
  CHECK(verify_digest_response(*r, "Circle Of Life", "GET"));
  r->response = "6629fae49393a05397450978507c4ef0";
  CHECK_FALSE(verify_digest_response(*r, "Circle Of Life", "GET"));
  r->response = "6629fae4";
  CHECK_FALSE(verify_digest_response(*r, "Circle Of Life", "GET"));
}

TEST_CASE("make_cnonce gives distinct 32-digit hex strings", "[tspi][sip][digest]") {
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) {
    std::error_code ec;
    auto c = make_cnonce(ec);
    REQUIRE(c);
    CHECK(c->size() == 32);
    CHECK(c->find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(*c);
  }
  CHECK(seen.size() == 64);
}

TEST_CASE("digest_client answers a 401, then pre-authorizes with a counting nc", "[tspi][sip][digest]") {
  digest_client client({"bob", "zanzibar"}, digest_policy{{"biloxi.com", "atlanta.com"}});
  auto req = register_request();
  CHECK_FALSE(client.has_challenge());
  CHECK_FALSE(client.authorize(req));
  CHECK_FALSE(req.header("Authorization"));  // nothing to answer yet

  auto unauthorized = response_with(401, "WWW-Authenticate",
                                    {R"(Digest realm="biloxi.com", nonce="n1", algorithm=MD5, qop="auth", opaque="op")",
                                     R"(Digest realm="biloxi.com", nonce="n1", algorithm=SHA-256, qop="auth", opaque="op")"});
  CHECK_FALSE(client.on_challenge(unauthorized));
  CHECK(client.has_challenge());

  std::string last_cnonce;
  for (std::uint32_t n = 1; n <= 3; ++n) {
    auto r2 = register_request();
    r2.add("Authorization", "Digest stale");  // replaced, not kept
    REQUIRE_FALSE(client.authorize(r2));
    CHECK(r2.headers_named("Authorization").size() == 1);
    CHECK_FALSE(r2.header("Proxy-Authorization"));
    auto cred = response_of(r2, "Authorization");
    CHECK(cred.algorithm == digest_algorithm::sha256);  // the stronger of the two
    CHECK(cred.username == "bob");
    CHECK(cred.realm == "biloxi.com");
    CHECK(cred.nonce == "n1");
    CHECK(cred.uri == "sip:biloxi.com");
    CHECK(cred.qop == "auth");
    CHECK(cred.nc == n);
    CHECK(*cred.opaque == "op");
    CHECK(cred.cnonce.size() == 32);
    CHECK(cred.cnonce != last_cnonce);
    last_cnonce = cred.cnonce;
    CHECK(verify_digest_response(cred, "zanzibar", "REGISTER"));
    CHECK_FALSE(verify_digest_response(cred, "zanzibar2", "REGISTER"));
  }

  // A stale nonce: the new nonce restarts the count; the same nonce again keeps counting.
  CHECK_FALSE(client.on_challenge(response_with(
      401, "WWW-Authenticate", {R"(Digest realm="biloxi.com", nonce="n2", algorithm=SHA-256, qop="auth", stale=TRUE)"})));
  auto r3 = register_request();
  REQUIRE_FALSE(client.authorize(r3));
  CHECK(response_of(r3, "Authorization").nc == 1);
  CHECK(response_of(r3, "Authorization").nonce == "n2");
  CHECK_FALSE(client.on_challenge(
      response_with(401, "WWW-Authenticate", {R"(Digest realm="biloxi.com", nonce="n2", algorithm=SHA-256, qop="auth")"})));
  REQUIRE_FALSE(client.authorize(r3));
  CHECK(response_of(r3, "Authorization").nc == 2);

  // A proxy challenge adds Proxy-Authorization next to Authorization; the INVITE's own body and
  // method go into the digests.
  CHECK_FALSE(client.on_challenge(
      response_with(407, "Proxy-Authenticate", {R"(Digest realm="atlanta.com", nonce="p1", qop="auth-int")"})));
  message invite;
  invite.method = "INVITE";
  invite.request_uri = "sip:alice@atlanta.com";
  invite.body = "v=0\r\n";
  REQUIRE_FALSE(client.authorize(invite));
  auto www = response_of(invite, "Authorization");
  auto proxy = response_of(invite, "Proxy-Authorization");
  CHECK(www.realm == "biloxi.com");
  CHECK(proxy.realm == "atlanta.com");
  CHECK(proxy.qop == "auth-int");
  CHECK(proxy.nc == 1);
  CHECK(proxy.algorithm == digest_algorithm::md5);
  CHECK(verify_digest_response(proxy, "zanzibar", "INVITE", "v=0\r\n"));
  CHECK(verify_digest_response(www, "zanzibar", "INVITE"));

  client.clear();
  auto r4 = register_request();
  REQUIRE_FALSE(client.authorize(r4));
  CHECK_FALSE(r4.header("Authorization"));
}

TEST_CASE("digest_client without qop, with unusable challenges, and with new credentials", "[tspi][sip][digest]") {
  digest_policy any;
  any.any_realm = true;
  any.allow_rfc2069 = true;
  digest_client client({"Mufasa", "CircleOfLife"}, any);
  CHECK(client.on_challenge(response_with(200, "Contact", {"<sip:a@b>"})) == digest_errc::no_challenge);
  CHECK(client.on_challenge(response_with(401, "WWW-Authenticate", {R"(Digest realm="r", nonce="n", algorithm=SHA-512-256)"})) ==
        digest_errc::unsupported_algorithm);
  CHECK(client.on_challenge(response_with(401, "WWW-Authenticate", {R"(Digest realm="r")"})) == digest_errc::missing_nonce);
  CHECK(client.on_challenge(response_with(401, "WWW-Authenticate", {R"(Basic realm="r")"})) == digest_errc::no_challenge);
  CHECK_FALSE(client.has_challenge());

  CHECK_FALSE(client.on_challenge(response_with(
      401, "WWW-Authenticate",
      {R"(Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41")"})));
  message get;
  get.method = "GET";
  get.request_uri = "/dir/index.html";
  for (int i = 0; i < 2; ++i) {  // no qop: the same response each time, no nc
    REQUIRE_FALSE(client.authorize(get));
    auto cred = response_of(get, "Authorization");
    CHECK(cred.response == "1949323746fe6a43ef61f9606e7febea");
    CHECK(cred.qop.empty());
    CHECK(get.header("Authorization")->find("nc=") == std::string_view::npos);
  }

  // At most max_challenges realms are kept, the oldest dropped first.
  for (int i = 0; i < 6; ++i)
    CHECK_FALSE(client.on_challenge(response_with(
        407, "Proxy-Authenticate", {"Digest realm=\"p" + std::to_string(i) + "\", nonce=\"x\", qop=\"auth\""})));
  REQUIRE_FALSE(client.authorize(get));
  CHECK(get.headers_named("Proxy-Authorization").size() == digest_client::max_challenges);
  CHECK_FALSE(get.header("Authorization"));
  CHECK(response_of(get, "Proxy-Authorization").realm == "p2");

  client.set_credentials({"other", "pw"});
  CHECK_FALSE(client.has_challenge());
}

TEST_CASE("digest_client answers only the realms and the qop its policy allows", "[tspi][sip][digest][sip_hardening]") {
  digest_client strict({"bob", "zanzibar"});  // default policy: no realm
  auto foreign = response_with(401, "WWW-Authenticate", {R"(Digest realm="evil.example", nonce="n1", qop="auth")"});
  CHECK(strict.on_challenge(foreign) == digest_errc::realm_not_allowed);
  CHECK_FALSE(strict.has_challenge());

  digest_client client({"bob", "zanzibar"}, digest_policy{{"biloxi.com"}});
  CHECK(client.on_challenge(foreign) == digest_errc::realm_not_allowed);
  auto rfc2069 = response_with(401, "WWW-Authenticate", {R"(Digest realm="biloxi.com", nonce="n1")"});
  CHECK(client.on_challenge(rfc2069) == digest_errc::rfc2069_not_allowed);
  CHECK_FALSE(client.has_challenge());
  auto req = register_request();
  REQUIRE_FALSE(client.authorize(req));
  CHECK_FALSE(req.header("Authorization"));  // nothing refused was answered

  // A foreign challenge next to an allowed one: only the allowed realm is answered.
  auto mixed = response_with(401, "WWW-Authenticate",
                             {R"(Digest realm="evil.example", nonce="e", qop="auth")", R"(Digest realm="biloxi.com", nonce="b", qop="auth")"});
  CHECK_FALSE(client.on_challenge(mixed));
  REQUIRE_FALSE(client.authorize(req));
  CHECK(req.headers_named("Authorization").size() == 1);
  CHECK(response_of(req, "Authorization").realm == "biloxi.com");

  auto relaxed = client.policy();
  relaxed.allow_rfc2069 = true;
  client.set_policy(relaxed);
  CHECK_FALSE(client.on_challenge(rfc2069));
  // Narrowing the policy forgets what it no longer allows.
  client.set_policy(digest_policy{{"atlanta.com"}});
  CHECK_FALSE(client.has_challenge());
}
