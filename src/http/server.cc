#include "http/server.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <exception>
#include <list>
#include <mutex>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "core/log.h"

namespace swarm::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

// Errors come back as values: a closed or timed-out connection is routine, not exceptional.
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

constexpr int kListenBacklog = 1024;
// Beast's default (8 KiB) is tight for long bearer tokens; 16 KiB is still small enough that
// a flood of header bytes costs little.
constexpr std::uint32_t kHeaderLimit = 16 * 1024;
constexpr std::size_t kReadChunk = 16 * 1024;
// A connection that once received a large body gives the memory back before idling.
constexpr std::size_t kKeptBufferBytes = 64 * 1024;
// After an error response on a request that was not read to its end, unread bytes in the
// socket would make close() send a RST that can destroy the response before the client
// reads it (curl then reports "broken pipe" instead of the 413). So read and discard until
// the client closes, for a bounded time ("lingering close", as nginx does). Only time is
// bounded: a byte limit would reset clients that are still sending a large body.
constexpr auto kLingerTime = std::chrono::seconds(2);
// A failing accept (out of file descriptors) is retried after a pause instead of spinning.
constexpr auto kAcceptRetryPause = std::chrono::milliseconds(50);
// While a handler runs, bytes the client sends (a pipelined request) are kept for later; a
// client that sends more than a header's worth while it waits is treated as gone.
constexpr std::size_t kWatchBufferLimit = kHeaderLimit;
// Refused connections are logged at most this often (with the count), so a flood costs no
// more than the refusals themselves.
constexpr auto kRefusalLogInterval = std::chrono::seconds(10);
// The answer to a connection over max_connections, written once without waiting.
constexpr std::string_view kTooManyConnections =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Content-Length: 32\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
    "{\"error\":\"too many connections\"}";

using BeastRequest = bhttp::request<bhttp::string_body>;
using BeastResponse = bhttp::response<bhttp::string_body>;

std::string ToString(beast::string_view s) { return std::string(s.data(), s.size()); }

void ToLowerInPlace(std::string& s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

void ToUpperInPlace(std::string& s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
}

std::string RemoteAddress(const tcp::socket& socket) {
  error_code ec;
  tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return {};
  asio::ip::address address = peer.address();
  // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; log them as a.b.c.d.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

// The target split at '?': {path, query}.
std::pair<std::string_view, std::string_view> SplitTarget(beast::string_view target) {
  std::string_view t(target.data(), target.size());
  std::size_t q = t.find('?');
  if (q == std::string_view::npos) return {t, {}};
  return {t.substr(0, q), t.substr(q + 1)};
}

// The request as the head hook and the handler see it, before its body is read.
HttpRequest ToHttpRequestHead(const BeastRequest& msg, const std::string& remote) {
  HttpRequest r;
  r.method = ToString(msg.method_string());
  ToUpperInPlace(r.method);
  auto [path, query] = SplitTarget(msg.target());
  r.path = path;
  r.query = query;
  for (const auto& field : msg) {
    std::string name = ToString(field.name_string());
    ToLowerInPlace(name);
    r.headers.emplace_back(std::move(name), ToString(field.value()));
  }
  r.remote = remote;
  return r;
}

// Headers that decide where the message ends belong to the server, never to a handler.
bool IsFramingHeader(std::string_view name) {
  auto iequals = [name](std::string_view other) {
    return beast::iequals(beast::string_view(name.data(), name.size()),
                          beast::string_view(other.data(), other.size()));
  };
  return iequals("content-length") || iequals("transfer-encoding") || iequals("connection");
}

BeastResponse ToBeastResponse(HttpResponse r, unsigned version, bool keep_alive, bool head) {
  // Informational statuses cannot end an exchange and out-of-range ones cannot be written.
  if (r.status < 200 || r.status > 599) r = JsonError(500, "internal error");
  BeastResponse res;
  res.version(version);
  res.result(static_cast<unsigned>(r.status));
  if (!r.content_type.empty()) res.set(bhttp::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) {
    if (!IsFramingHeader(name)) res.insert(name, value);
  }
  res.keep_alive(keep_alive);
  if (r.status == 204 || r.status == 304) {
    r.body.clear();  // these statuses carry no body by definition
  }
  if (head) {
    // The length the GET would have, with no body after the header.
    if (r.status != 204 && r.status != 304) res.content_length(r.body.size());
  } else {
    res.body() = std::move(r.body);
    res.prepare_payload();
  }
  return res;
}

bool Expects100Continue(const BeastRequest& msg) {
  if (msg.version() < 11) return false;
  auto it = msg.find(bhttp::field::expect);
  return it != msg.end() && beast::iequals(it->value(), "100-continue");
}

// The status for a failed request read, or 0 when the connection should just close (the
// peer left, a timeout, shutdown).
int StatusForReadError(const error_code& ec) {
  if (ec == bhttp::error::body_limit) return 413;
  if (ec == bhttp::error::header_limit) return 431;
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
      ec == bhttp::error::short_read) {
    return 0;
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) return 400;
  return 0;
}

std::string MessageForReadError(const error_code& ec, const ServerOptions& options) {
  if (ec == bhttp::error::body_limit) {
    return "request body is larger than the " + std::to_string(options.body_limit) + "-byte limit";
  }
  if (ec == bhttp::error::header_limit) {
    return "request header is larger than the " + std::to_string(kHeaderLimit) + "-byte limit";
  }
  return "malformed HTTP request: " + ec.message();
}

struct Connection : std::enable_shared_from_this<Connection> {
  explicit Connection(tcp::socket socket)
      : executor(socket.get_executor()), stream(std::move(socket)), watch_done(executor) {}

  const asio::any_io_executor executor;  // the connection's strand
  beast::tcp_stream stream;
  beast::flat_buffer buffer;  // reused by every request on the connection
  std::string remote;
  // On the strand only: true while waiting for the first bytes of a request, the state in
  // which shutdown may close the connection without losing anything.
  bool idle = false;
  std::list<Connection*>::iterator registry_pos;  // guarded by Impl::mu

  // The peer watch of the request whose handler runs (strand only). A read stays pending on
  // the socket while the handler is suspended, so a hang-up is seen as it happens.
  std::shared_ptr<PeerWatch> watch;
  uint64_t request_seq = 0;  // which request a posted StartWatch belongs to
  bool in_handler = false;
  bool watching = false;          // a watch read is pending or its completion is queued
  bool stop_watch = false;        // the handler returned: the watch read must not be renewed
  asio::steady_timer watch_done;  // cancelled when the watch read ends
};

// Holds one of the max_body_waiters places while a body arrives.
class BodyWaiterSlot {
 public:
  explicit BodyWaiterSlot(std::atomic<std::size_t>& count) : count_(count) { ++count_; }
  ~BodyWaiterSlot() { --count_; }
  BodyWaiterSlot(const BodyWaiterSlot&) = delete;
  BodyWaiterSlot& operator=(const BodyWaiterSlot&) = delete;

 private:
  std::atomic<std::size_t>& count_;
};

// One read of the peer watch; renews itself until the handler returns or the peer goes.
void WatchRead(std::shared_ptr<Connection> conn) {
  Connection& c = *conn;
  c.stream.socket().async_read_some(
      c.buffer.prepare(kReadChunk), [conn = std::move(conn)](error_code ec, std::size_t n) {
        Connection& c = *conn;
        if (!ec) c.buffer.commit(n);
        const bool gone = (ec && ec != asio::error::operation_aborted) ||
                          (!ec && c.buffer.size() > kWatchBufferLimit);
        if (gone) c.watch->MarkGone();
        if (ec || gone || c.stop_watch) {
          c.watching = false;
          c.watch_done.cancel();
          return;
        }
        WatchRead(std::move(conn));
      });
}

// Posted when a handler first asks to hear of a hang-up (PeerWatch::OnGone); a handler that
// has returned by the time this runs costs no read.
void StartWatch(const std::shared_ptr<Connection>& conn, uint64_t seq) {
  if (!conn->in_handler || conn->request_seq != seq || conn->watch->gone()) return;
  conn->watching = true;
  conn->watch_done.expires_at(asio::steady_timer::time_point::max());
  WatchRead(conn);
}

// A named function object rather than a lambda: GCC 12 miscompiles lambdas that capture
// coroutine state by copy (they can skip the copy constructor).
struct StartWatchOp {
  std::shared_ptr<Connection> conn;
  uint64_t seq;
  void operator()() const { StartWatch(conn, seq); }
};

// Ends the peer watch after the handler returned; afterwards the socket and buffer are the
// connection's again.
asio::awaitable<void> StopWatch(Connection& conn) {
  conn.in_handler = false;
  if (conn.watching) {
    conn.stop_watch = true;
    error_code ignored;
    conn.stream.socket().cancel(ignored);
    co_await conn.watch_done.async_wait(kUseTuple);
  }
  conn.stop_watch = false;
  conn.watch->Close();
}

void NotifyUndelivered(const std::function<void()>& on_undelivered) {
  if (!on_undelivered) return;
  try {
    on_undelivered();
  } catch (...) {
    // The owner's recovery failed; the connection still closes normally.
  }
}

// The BodyStream a producer writes to: one chunk per Write (raw bytes for an HTTP/1.0 client,
// whose response then ends with the connection), each bounded by the write timeout.
class ChunkWriter final : public BodyStream {
 public:
  ChunkWriter(Connection& conn, std::chrono::milliseconds write_timeout, bool chunked)
      : conn_(conn), write_timeout_(write_timeout), chunked_(chunked) {}

  asio::awaitable<bool> Write(std::string_view bytes) override {
    if (failed_ || conn_.watch->gone()) co_return false;
    if (bytes.empty()) co_return true;  // an empty chunk would end the body
    conn_.stream.expires_after(write_timeout_);
    error_code ec;
    if (chunked_) {
      auto [e, n] = co_await asio::async_write(
          conn_.stream, bhttp::make_chunk(asio::buffer(bytes.data(), bytes.size())), kUseTuple);
      ec = e;
    } else {
      auto [e, n] = co_await asio::async_write(conn_.stream,
                                               asio::buffer(bytes.data(), bytes.size()), kUseTuple);
      ec = e;
    }
    if (ec) {
      failed_ = true;
      co_return false;
    }
    bytes_ += bytes.size();
    co_return true;
  }

  PeerWatch& peer() override { return *conn_.watch; }

  // The terminating chunk, after the producer returned.
  asio::awaitable<void> Finish() {
    if (failed_ || !chunked_ || conn_.watch->gone()) co_return;
    conn_.stream.expires_after(write_timeout_);
    auto [ec, n] = co_await asio::async_write(conn_.stream, bhttp::make_chunk_last(), kUseTuple);
    if (ec) failed_ = true;
  }

  bool failed() const { return failed_; }
  std::size_t bytes() const { return bytes_; }

 private:
  Connection& conn_;
  const std::chrono::milliseconds write_timeout_;
  const bool chunked_;
  bool failed_ = false;
  std::size_t bytes_ = 0;
};

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io_context, ServerOptions opts, Handler h, AccessLogger log)
      : io(io_context),
        options(std::move(opts)),
        handler(std::move(h)),
        access_log(std::move(log)),
        acceptor(asio::make_strand(io_context)) {}

  Result<uint16_t> Listen();
  void BeginShutdown();
  void StartConnection(tcp::socket socket);
  void Refuse(tcp::socket socket);
  void Unregister(Connection& conn);
  void Log(const AccessRecord& record) const;

  static asio::awaitable<void> AcceptLoop(std::shared_ptr<Impl> self);
  static asio::awaitable<void> Serve(std::shared_ptr<Impl> self, std::shared_ptr<Connection> conn);
  asio::awaitable<bool> ServeRequests(std::shared_ptr<Connection> conn);
  // Answers a request the server will not hand to the handler (a read error, the head hook's
  // refusal, no room to wait for the body) and says whether the close must linger.
  asio::awaitable<bool> Reject(Connection& conn, HttpResponse response, unsigned version,
                               AccessRecord record, Clock::time_point start, bool unread_bytes);
  // Sends a response whose body a producer writes (HttpResponse::stream). Returns whether the
  // whole of it reached the socket; `bytes` gets the body's size.
  asio::awaitable<bool> SendStream(Connection& conn, HttpResponse response, unsigned version,
                                   bool keep_alive, std::size_t& bytes);

  asio::io_context& io;
  const ServerOptions options;
  const Handler handler;
  const AccessLogger access_log;
  tcp::acceptor acceptor;  // used on its own strand once the accept loop runs
  std::atomic<uint16_t> port{0};
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> body_waiters{0};
  std::atomic<std::size_t> refused_connections{0};
  std::atomic<std::size_t> refused_body_waiters{0};
  std::optional<Clock::time_point> last_refusal_log;  // acceptor strand only
  std::mutex mu;
  std::list<Connection*> connections;  // guarded by mu; each is alive while listed
};

Result<uint16_t> HttpServer::Impl::Listen() {
  {
    std::lock_guard lock(mu);
    if (stopping) return Unavailable("the HTTP server is shutting down");
    if (acceptor.is_open()) return Internal("the HTTP server is already listening");

    const std::string where = options.host + ":" + std::to_string(options.port);
    error_code ec;
    tcp::endpoint endpoint;
    asio::ip::address address = asio::ip::make_address(options.host, ec);
    if (!ec) {
      endpoint = tcp::endpoint(address, options.port);
    } else {
      // A host name such as "localhost": take its first address.
      tcp::resolver resolver(io);
      auto results =
          resolver.resolve(options.host, std::to_string(options.port), tcp::resolver::passive, ec);
      if (ec || results.empty()) {
        return Unavailable("cannot listen on " + where + ": cannot resolve the host: " +
                           (ec ? ec.message() : std::string("no address")));
      }
      endpoint = results.begin()->endpoint();
    }

    const char* step = "open";
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
      step = "set SO_REUSEADDR";
      acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
      step = "bind";
      acceptor.bind(endpoint, ec);
    }
    if (!ec) {
      step = "listen";
      acceptor.listen(kListenBacklog, ec);
    }
    tcp::endpoint bound;
    if (!ec) {
      step = "read the bound address";
      bound = acceptor.local_endpoint(ec);
    }
    if (ec) {
      error_code ignored;
      acceptor.close(ignored);
      return Unavailable("cannot listen on " + where + ": " + step + ": " + ec.message());
    }
    port = bound.port();
  }
  asio::co_spawn(acceptor.get_executor(), AcceptLoop(shared_from_this()),
                 [](std::exception_ptr) {});
  return port.load();
}

void HttpServer::Impl::BeginShutdown() {
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(mu);
    if (stopping.exchange(true)) return;
    live.reserve(connections.size());
    // Listed connections are alive: their coroutine holds them until it unregisters.
    for (Connection* c : connections) live.push_back(c->shared_from_this());
  }
  // The acceptor and each connection belong to their strands: act there, not here.
  asio::post(acceptor.get_executor(), [self = shared_from_this()] {
    error_code ignored;
    self->acceptor.close(ignored);
  });
  for (auto& conn : live) {
    asio::post(conn->executor, [conn] {
      // A connection inside a request is left alone: it sees `stopping` when it responds.
      if (conn->idle) conn->stream.close();
    });
  }
}

void HttpServer::Impl::StartConnection(tcp::socket socket) {
  error_code ignored;
  // Responses are written in one go; Nagle would only delay them.
  socket.set_option(tcp::no_delay(true), ignored);
  bool full;
  {
    std::lock_guard lock(mu);
    if (stopping) return;  // the socket closes here
    full = connections.size() >= options.max_connections;
  }
  // Only this strand adds connections, so the count cannot grow between the two looks.
  if (full) {
    Refuse(std::move(socket));
    return;
  }
  auto conn = std::make_shared<Connection>(std::move(socket));
  {
    std::lock_guard lock(mu);
    if (stopping) return;  // the socket closes with `conn`
    conn->registry_pos = connections.insert(connections.end(), conn.get());
    ++open;
  }
  conn->remote = RemoteAddress(conn->stream.socket());
  asio::co_spawn(conn->executor, Serve(shared_from_this(), conn), [](std::exception_ptr) {});
}

// Over max_connections: one non-blocking write of a canned 503 and close, so the accept loop
// never waits on a client it has no room for. Best effort: a client that already sent its
// request may see a reset instead.
void HttpServer::Impl::Refuse(tcp::socket socket) {
  (void)::send(socket.native_handle(), kTooManyConnections.data(), kTooManyConnections.size(),
               MSG_NOSIGNAL | MSG_DONTWAIT);
  error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
  const std::size_t refused = ++refused_connections;
  const auto now = Clock::now();
  if (!last_refusal_log || now - *last_refusal_log >= kRefusalLogInterval) {
    last_refusal_log = now;
    log::Warn("connection refused: too many open connections",
              {{"maxConnections", options.max_connections}, {"refusedSoFar", refused}});
  }
}

void HttpServer::Impl::Unregister(Connection& conn) {
  std::lock_guard lock(mu);
  connections.erase(conn.registry_pos);
  --open;
}

void HttpServer::Impl::Log(const AccessRecord& record) const {
  if (!access_log) return;
  try {
    access_log(record);
  } catch (...) {
    // A failing log sink must not take the connection down with it.
  }
}

asio::awaitable<void> HttpServer::Impl::AcceptLoop(std::shared_ptr<Impl> self) {
  for (;;) {
    tcp::socket socket(asio::make_strand(self->io));
    auto [ec] = co_await self->acceptor.async_accept(socket, kUseTuple);
    if (ec) {
      if (self->stopping || !self->acceptor.is_open() || ec == asio::error::operation_aborted) {
        co_return;
      }
      asio::steady_timer pause(co_await asio::this_coro::executor, kAcceptRetryPause);
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    self->StartConnection(std::move(socket));
  }
}

asio::awaitable<void> HttpServer::Impl::Serve(std::shared_ptr<Impl> self,
                                              std::shared_ptr<Connection> conn) {
  bool linger = false;
  try {
    linger = co_await self->ServeRequests(conn);
  } catch (...) {
    // Only unexpected library failures (allocation) get here: drop the connection, never the
    // process.
  }
  error_code ignored;
  conn->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (linger && conn->stream.socket().is_open()) {
    conn->stream.expires_after(kLingerTime);
    for (;;) {
      conn->buffer.clear();
      auto [ec, n] =
          co_await conn->stream.async_read_some(conn->buffer.prepare(kReadChunk), kUseTuple);
      if (ec) break;  // the client closed, or the lingering time is up
    }
  }
  conn->stream.close();
  self->Unregister(*conn);
}

asio::awaitable<bool> HttpServer::Impl::Reject(Connection& conn, HttpResponse response,
                                               unsigned version, AccessRecord record,
                                               Clock::time_point start, bool unread_bytes) {
  record.status = response.status;
  BeastResponse res = ToBeastResponse(std::move(response), version, /*keep_alive=*/false,
                                      /*head=*/false);
  record.response_bytes = res.body().size();
  conn.stream.expires_after(options.read_timeout);
  auto [ec, n] = co_await bhttp::async_write(conn.stream, res, kUseTuple);
  record.duration_us =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
  Log(record);
  co_return !ec && unread_bytes;
}

// Serves requests until the connection should close. Returns true when the close should
// linger because the client may have sent bytes that were not read.
asio::awaitable<bool> HttpServer::Impl::ServeRequests(std::shared_ptr<Connection> conn_ptr) {
  Connection& conn = *conn_ptr;  // conn_ptr keeps it alive
  const auto write_timeout = options.read_timeout;
  for (bool first = true;; first = false) {
    // Wait for the first bytes of a request. This is the one state in which shutdown closes
    // the connection. A new connection has header_timeout from now for its whole header; a
    // kept-alive one idles up to idle_timeout, then has header_timeout from its first byte.
    if (conn.buffer.size() == 0) {
      if (stopping) co_return false;
      if (conn.buffer.capacity() > kKeptBufferBytes) conn.buffer.shrink_to_fit();
      conn.stream.expires_after(first ? options.header_timeout : options.idle_timeout);
      conn.idle = true;
      auto [ec, n] = co_await conn.stream.async_read_some(
          conn.buffer.prepare(beast::read_size(conn.buffer, kReadChunk)), kUseTuple);
      conn.idle = false;
      if (ec) co_return false;  // the peer left, idle or header timeout, or shutdown
      conn.buffer.commit(n);
    }
    const auto start = Clock::now();
    if (!first) conn.stream.expires_after(options.header_timeout);

    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(static_cast<std::uint64_t>(options.body_limit));
    auto [read_ec, header_bytes] =
        co_await bhttp::async_read_header(conn.stream, conn.buffer, parser, kUseTuple);
    (void)header_bytes;

    AccessRecord record;
    if (access_log) {
      // The request line is known whenever the parser got past it, even on errors.
      record.method = ToString(parser.get().method_string());
      ToUpperInPlace(record.method);
      record.path = SplitTarget(parser.get().target()).first;
      auto agent = parser.get().find("X-Agent-ID");
      if (agent != parser.get().end()) record.agent_id = ToString(agent->value());
      record.remote = conn.remote;
    }
    auto read_failed = [&](const error_code& ec) -> std::optional<HttpResponse> {
      const int status = StatusForReadError(ec);
      if (status == 0) return std::nullopt;
      return JsonError(status, MessageForReadError(ec, options));
    };
    if (read_ec) {
      auto response = read_failed(read_ec);
      if (!response) co_return false;
      co_return co_await Reject(conn, std::move(*response), 11, std::move(record), start, true);
    }

    BeastRequest& msg = parser.get();
    const unsigned version = msg.version();
    HttpRequest request = ToHttpRequestHead(msg, conn.remote);
    // Refused on the header alone: the body is never read and no 100 Continue goes out.
    if (options.head_hook) {
      std::optional<HttpResponse> refusal;
      try {
        refusal = options.head_hook(request);
      } catch (...) {
        refusal = JsonError(500, "internal error");
      }
      if (refusal) {
        co_return co_await Reject(conn, std::move(*refusal), version, std::move(record), start,
                                  !parser.is_done() || conn.buffer.size() > 0);
      }
    }

    if (!parser.is_done()) {
      if (body_waiters.load() >= options.max_body_waiters) {
        ++refused_body_waiters;
        HttpResponse busy = JsonError(503, "too many requests waiting for their body");
        busy.headers.emplace_back("Retry-After", "1");
        co_return co_await Reject(conn, std::move(busy), version, std::move(record), start, true);
      }
      BodyWaiterSlot slot(body_waiters);
      if (Expects100Continue(msg)) {
        // Clients that ask first (curl does for large bodies) would otherwise wait a second.
        bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, 11};
        auto [ec, n] = co_await bhttp::async_write(conn.stream, go_on, kUseTuple);
        if (ec) co_return false;
      }
      conn.stream.expires_after(options.read_timeout);
      auto [ec, n] = co_await bhttp::async_read(conn.stream, conn.buffer, parser, kUseTuple);
      if (ec) {
        auto response = read_failed(ec);
        if (!response) co_return false;
        co_return co_await Reject(conn, std::move(*response), version, std::move(record), start,
                                  true);
      }
    }

    const bool client_keep_alive = msg.keep_alive();
    const bool head = msg.method() == bhttp::verb::head;
    request.body = std::move(msg.body());

    // A handler may wait for minutes (long-poll): no deadline while it runs, but a watch on
    // the peer so the handler learns of a hang-up.
    conn.stream.expires_never();
    conn.in_handler = true;
    const uint64_t seq = ++conn.request_seq;
    // The watch starts only if the handler asks (OnGone): other handlers cost no read.
    conn.watch = std::make_shared<PeerWatch>(
        [op = StartWatchOp{conn.shared_from_this(), seq}] { asio::post(op.conn->executor, op); });
    request.peer = conn.watch;
    HttpResponse response;
    try {
      response = co_await handler(std::move(request));
    } catch (...) {
      response = JsonError(500, "internal error");
    }
    if (response.stream && !head) {
      // HTTP/1.0 has no chunks: the body ends with the connection.
      const bool keep_alive = client_keep_alive && !stopping && version >= 11;
      std::function<void()> on_undelivered = std::move(response.on_undelivered);
      record.status = response.status;
      std::size_t body_bytes = 0;
      const bool delivered =
          co_await SendStream(conn, std::move(response), version, keep_alive, body_bytes);
      const bool peer_gone = conn.watch->gone();
      co_await StopWatch(conn);
      conn.watch.reset();
      if (!delivered) NotifyUndelivered(on_undelivered);
      record.response_bytes = body_bytes;
      record.duration_us =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
      Log(record);
      if (!delivered || peer_gone) co_return false;
      if (!keep_alive || stopping) co_return conn.buffer.size() > 0;
      continue;
    }
    const bool peer_gone = conn.watch->gone();

    const bool keep_alive = client_keep_alive && !stopping && !peer_gone;
    std::function<void()> on_undelivered = std::move(response.on_undelivered);
    BeastResponse res = ToBeastResponse(std::move(response), version, keep_alive, head);
    const std::size_t body_bytes = head ? 0 : res.body().size();
    error_code write_ec;
    if (peer_gone) {
      write_ec = asio::error::connection_aborted;  // nobody to write to
    } else {
      // Written while a watch read may still be pending (a socket reads and writes at once):
      // ending the watch first would put two strand round trips before every long-poll answer.
      conn.stream.expires_after(write_timeout);
      auto [ec, written] = co_await bhttp::async_write(conn.stream, res, kUseTuple);
      (void)written;
      write_ec = ec;
    }
    co_await StopWatch(conn);
    conn.watch.reset();
    if (write_ec) NotifyUndelivered(on_undelivered);
    record.status = static_cast<int>(res.result_int());
    record.response_bytes = body_bytes;
    record.duration_us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    // Logged even when the peer left before the write: the request was still handled.
    Log(record);
    if (write_ec) co_return false;
    // Bytes already sent for a request we will not serve (pipelined before the close) must
    // be drained, or the close resets the connection under the response.
    if (!keep_alive) co_return conn.buffer.size() > 0;
  }
}

asio::awaitable<bool> HttpServer::Impl::SendStream(Connection& conn, HttpResponse response,
                                                   unsigned version, bool keep_alive,
                                                   std::size_t& bytes) {
  if (response.status < 200 || response.status > 599 || response.status == 204 ||
      response.status == 304) {
    response.status = 500;  // a streamed body needs a status that may carry one
  }
  bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(response.status), version};
  if (!response.content_type.empty()) res.set(bhttp::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) {
    if (!IsFramingHeader(name)) res.insert(name, value);
  }
  const bool chunked = version >= 11;
  if (chunked) res.chunked(true);
  res.keep_alive(keep_alive);
  if (conn.watch->gone()) co_return false;
  conn.stream.expires_after(options.read_timeout);
  bhttp::response_serializer<bhttp::empty_body> serializer{res};
  auto [ec, n] = co_await bhttp::async_write_header(conn.stream, serializer, kUseTuple);
  if (ec) co_return false;
  // A producer waits on things other than the socket, so it is told of a hang-up at once.
  conn.watch->OnGone([] {});
  ChunkWriter writer(conn, options.read_timeout, chunked);
  BodyProducer producer = std::move(response.stream);
  try {
    co_await producer(writer);
  } catch (const std::exception& e) {
    log::Warn("a streamed response failed", {{"error", e.what()}});
  } catch (...) {
    log::Warn("a streamed response failed", {});
  }
  co_await writer.Finish();
  bytes = writer.bytes();
  co_return !writer.failed() && !conn.watch->gone();
}

HttpServer::HttpServer(asio::io_context& io, ServerOptions options, Handler handler,
                       AccessLogger access_log)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handler),
                                   std::move(access_log))) {}

HttpServer::~HttpServer() { impl_->BeginShutdown(); }

Result<uint16_t> HttpServer::Listen() { return impl_->Listen(); }

uint16_t HttpServer::port() const { return impl_->port.load(); }

void HttpServer::BeginShutdown() { impl_->BeginShutdown(); }

std::size_t HttpServer::open_connections() const { return impl_->open.load(); }

std::size_t HttpServer::body_waiters() const { return impl_->body_waiters.load(); }

std::size_t HttpServer::refused_connections() const { return impl_->refused_connections.load(); }

std::size_t HttpServer::refused_body_waiters() const { return impl_->refused_body_waiters.load(); }

}  // namespace swarm::http
