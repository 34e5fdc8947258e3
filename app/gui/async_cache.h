// Background jobs of the Document, written once: AsyncCache<Key, Value> computes values off the
// GUI thread and keeps them by key (operators, curves, tiles, channel-group pictures);
// LatestJob<Request, Value> computes only the latest of quickly repeated requests (the spectrum
// at a dragged split, the detail tile of a zoomed heatmap). Both deliver on the GUI thread, drop
// results of an older generation (the owner bumps it when input or options change), and report
// errors as the exception's message. Progress and cancel flags travel inside the job closures.
#pragma once
#include <QHash>
#include <QMetaObject>
#include <QObject>
#include <QSet>
#include <QString>
#include <QThreadPool>
#include <QtConcurrent>
#include <exception>
#include <functional>
#include <memory>
#include <optional>

#include "ess/error.h"

namespace asyncjobs {

/// What the owner does around every job: a busy indicator (start with a description of the
/// job, finish when it is over) and the user-facing message of an exception.
struct Hooks {
  std::function<void(const QString& what)> started;
  std::function<void()> finished;
  std::function<QString(const std::exception&)> message;
};

}  // namespace asyncjobs

template <typename Key, typename Value>
class AsyncCache {
 public:
  using Ptr = std::shared_ptr<const Value>;
  /// Called inside a job (any thread) with a value for the key: `final` false for a preview
  /// that a later, final value replaces (a strided curve before the full one).
  using Deliver = std::function<void(Ptr value, bool final)>;
  /// Computes the key's value and delivers it (at least once with final = true); throws on
  /// error, ess::Cancelled when stopped.
  using Job = std::function<void(const Deliver& deliver)>;
  /// On the GUI thread, for the current generation only.
  struct Handlers {
    std::function<void(const Key&, bool final)> ready;
    std::function<void(const Key&, const QString& message)> failed;
    std::function<void(const Key&)> cancelled;
  };

  /// `generation` is the owner's counter: results of jobs started under another value are
  /// dropped. Jobs run on `pool`; `context` (the owner) receives the deliveries.
  AsyncCache(QObject* context, QThreadPool* pool, const quint64* generation, asyncjobs::Hooks hooks, Handlers handlers)
      : context_(context),
        pool_(pool),
        generation_(generation),
        hooks_(std::move(hooks)),
        handlers_(std::move(handlers)) {}

  /// The cached value (a preview until isFinal()), null when there is none.
  const Value* value(const Key& key) const {
    auto it = values_.find(key);
    return it == values_.end() ? nullptr : it.value().get();
  }
  Ptr shared(const Key& key) const { return values_.value(key); }
  bool contains(const Key& key) const { return values_.contains(key); }
  bool isFinal(const Key& key) const { return final_.value(key); }
  bool isPending(const Key& key) const { return pending_.contains(key); }
  QList<Key> keys() const { return values_.keys(); }

  /// Cached: ready(key) again (queued, while it stays cached); a final value ends there.
  /// Otherwise, unless it is already computing, runs `job` on the pool, described as `what`.
  void request(const Key& key, const QString& what, Job job) {
    if (values_.contains(key)) {
      QMetaObject::invokeMethod(
          context_,
          [this, key] {
            if (values_.contains(key)) handlers_.ready(key, final_.value(key));
          },
          Qt::QueuedConnection);
      if (final_.value(key)) return;
    }
    if (pending_.contains(key)) return;
    pending_.insert(key);
    if (hooks_.started) hooks_.started(what);
    const quint64 generation = *generation_;
    (void)QtConcurrent::run(pool_, [this, key, generation, job = std::move(job)] {
      const Deliver deliver = [this, key, generation](Ptr value, bool final) {
        onGui([this, key, generation, value, final] {
          if (generation != *generation_) return;
          if (final) pending_.remove(key);
          if (!final && final_.value(key)) return;  // the preview came after the final value
          values_.insert(key, value);
          final_.insert(key, final);
          handlers_.ready(key, final);
        });
      };
      try {
        job(deliver);
      } catch (const ess::Cancelled&) {
        onGui([this, key, generation] {
          if (generation != *generation_) return;
          pending_.remove(key);
          if (handlers_.cancelled) handlers_.cancelled(key);
        });
      } catch (const std::exception& e) {
        const QString message = hooks_.message ? hooks_.message(e) : QString::fromStdString(e.what());
        onGui([this, key, generation, message] {
          if (generation != *generation_) return;
          pending_.remove(key);
          if (handlers_.failed) handlers_.failed(key, message);
        });
      }
      if (hooks_.finished) onGui([this] { hooks_.finished(); });
    });
  }

  /// Stores a final value computed elsewhere (a job that computes many keys at once).
  void insert(const Key& key, Ptr value) {
    values_.insert(key, std::move(value));
    final_.insert(key, true);
  }
  void remove(const Key& key) {
    values_.remove(key);
    final_.remove(key);
  }
  /// Forgets the running jobs (their keys may be requested again); values stay.
  void forgetPending() { pending_.clear(); }
  /// Drops values and running jobs (bump the generation too, so their results are dropped).
  void clear() {
    values_.clear();
    final_.clear();
    pending_.clear();
  }

 private:
  template <typename F>
  void onGui(F f) {
    QMetaObject::invokeMethod(context_, std::move(f), Qt::QueuedConnection);
  }

  QObject* context_;
  QThreadPool* pool_;
  const quint64* generation_;
  asyncjobs::Hooks hooks_;
  Handlers handlers_;
  QHash<Key, Ptr> values_;
  QHash<Key, bool> final_;
  QSet<Key> pending_;
};

/// One job at a time; requests that arrive while it runs replace each other, and the latest
/// runs when it ends. `Request` needs operator== (the same request is not recomputed).
template <typename Request, typename Value>
class LatestJob {
 public:
  using Job = std::function<Value(const Request&)>;  // throws on error
  struct Handlers {
    std::function<void(const Request&, const Value&)> ready;
    std::function<void(const Request&, const QString& message)> failed;
    std::function<void(const Request&)> cancelled;  // the job raised ess::Cancelled: no error
  };
  /// `dropSuperseded`: a result whose request was replaced while it ran is not delivered
  /// (detail tiles); otherwise it is, and the latest request follows (spectra).
  LatestJob(QObject* context, QThreadPool* pool, const quint64* generation,
            std::function<QString(const std::exception&)> message, bool dropSuperseded, Handlers handlers)
      : context_(context),
        pool_(pool),
        generation_(generation),
        message_(std::move(message)),
        dropSuperseded_(dropSuperseded),
        handlers_(std::move(handlers)) {}

  void request(const Request& request, Job job) {
    wanted_ = Wanted{request, std::move(job), *generation_};
    if (!running_) start();
  }
  /// Forgets the request waiting to run.
  void clear() { wanted_.reset(); }
  /// Whether a job runs now (its result still to come).
  bool isRunning() const { return running_; }

 private:
  struct Wanted {
    Request request;
    Job job;
    quint64 generation;
  };

  void start() {
    const Wanted w = *wanted_;
    if (dropSuperseded_) wanted_.reset();
    running_ = true;
    (void)QtConcurrent::run(pool_, [this, w] {
      std::optional<Value> value;
      QString error;
      bool cancelled = false;
      try {
        value = w.job(w.request);
      } catch (const ess::Cancelled&) {
        cancelled = true;
      } catch (const std::exception& e) {
        error = message_ ? message_(e) : QString::fromStdString(e.what());
      }
      QMetaObject::invokeMethod(
          context_,
          [this, w, value, error, cancelled] {
            running_ = false;
            const bool superseded = dropSuperseded_ && wanted_.has_value();
            if (w.generation == *generation_ && !superseded) {
              if (cancelled) {
                if (handlers_.cancelled) handlers_.cancelled(w.request);
              } else if (!value) {
                handlers_.failed(w.request, error);
              } else {
                handlers_.ready(w.request, *value);
              }
            }
            // A newer request came in while this one ran: compute the latest only.
            if (wanted_ && wanted_->generation == *generation_ &&
                (dropSuperseded_ || !(wanted_->request == w.request && wanted_->generation == w.generation)))
              start();
          },
          Qt::QueuedConnection);
    });
  }

  QObject* context_;
  QThreadPool* pool_;
  const quint64* generation_;
  std::function<QString(const std::exception&)> message_;
  bool dropSuperseded_;
  Handlers handlers_;
  std::optional<Wanted> wanted_;
  bool running_ = false;
};
