// Document: what the ESS Explorer window shows. Holds one opened ess::Session (checkpoint or
// operator file), its input spec and the EssOptions, caches the operators and ESS curves of
// its layers, and runs the long work (opening, materializing, SVDs) off the GUI thread with
// progress and cancel (through AsyncCache and LatestJob, async_cache.h). Results and errors
// arrive as signals; the views never see the Session. It watches the files the session read
// and says when one changed on disk (sourceChanged), to reload or keep what was read.
#pragma once
#include <QFuture>
#include <QHash>
#include <QObject>
#include <QSet>
#include <QString>
#include <QStringList>
#include <QThreadPool>
#include <QVector>
#include <atomic>
#include <memory>

#include "async_cache.h"
#include "ess/aggregate.h"
#include "ess/ess_options.h"
#include "ess/session.h"

class QFileSystemWatcher;

class Document : public QObject {
  Q_OBJECT
 public:
  explicit Document(QObject* parent = nullptr);
  ~Document() override;

  bool isOpen() const { return static_cast<bool>(handle_); }
  QString path() const { return path_; }
  /// What the opened file is (empty SourceInfo when nothing is open).
  const ess::SourceInfo& info() const;
  int layerCount() const { return int(info().layers.size()); }
  int headCount(int layer) const;
  /// The session's current input spec ("" for operator files).
  QString inputSpec() const { return inputSpec_; }
  const ess::EssOptions& options() const { return options_; }
  bool isBusy() const { return busyJobs_ > 0; }
  /// Sequence length L of the operators (operator and generator files: the file's; models: the
  /// current input's); 0 when nothing is open.
  int sequenceLength() const { return length_; }
  /// Text of each input token (ess::Session::tokenLabels: tokenizer pieces, or token ids as
  /// text), as long as the input; empty for operator files and when nothing is open.
  QStringList tokenLabels() const { return tokenLabels_; }

  /// Long operators are shown from tiles instead of a dense [H, L, L] operator
  /// (ess::isTiledLayer at the memory budget, as `ess render` decides).
  bool isTiled(int layer) const;
  /// Samples per side of the overview tile of a tiled layer.
  static constexpr int kOverviewSize = 1024;
  /// Memory budget for dense operators, in bytes (ess::Session::setMemoryBudget); applies to
  /// the open session and to files opened later.
  void setMemoryBudget(qint64 bytes);
  qint64 memoryBudget() const { return memoryBudget_; }
  /// Which operator the recurrent layers form (ess/operator_scope.h: the block's or the
  /// SSM-only one): the open session's; the one asked for when none is open.
  ess::OperatorScope operatorScope() const;
  /// The overview tile of T[head] of `layer` (kOverviewSize samples per side; null until
  /// requestOverviewTile() delivered it).
  const ess::OperatorTile* overviewTile(int layer, int head) const;
  /// The latest detail tile delivered (null when none) and its layer and head.
  const ess::OperatorTile* detailTile(int* layer = nullptr, int* head = nullptr) const;

  /// Cached results (null until ready).
  const ess::OperatorData* operatorData(int layer) const;
  const ess::CurveData* curveData(int layer) const;
  /// Mean |T| over heads first..last (inclusive) of a layer's operator, row-major [L, L]
  /// (null until requestGroupOperator() delivered it).
  const std::vector<double>* groupOperator(int layer, int first, int last) const;
  /// Heads first..last (inclusive) of the cached curve of `layer` summed, each times the layer's
  /// value channels (ess::sumHeads; ESS and TSS per split, utilization). Cheap (heads x splits);
  /// false until the curve is there.
  bool total(int layer, int first, int last, ess::HeadTotal* out) const;
  bool allCurvesReady() const;

 public slots:
  /// Opens a file or directory in the background: opened() on success, openFailed() on error
  /// (the previous document stays).
  void open(const QString& path);
  /// As open(), then the input `input` where the new file takes it (models; a refused one leaves
  /// its default): scrubbing through a run keeps the input.
  void openAtInput(const QString& path, const QString& input);
  /// As open(), the recurrent layers forming the operators of `scope` (setOperatorScope's, for
  /// this file and those opened later) without forming the open file's again; a file that holds
  /// one operator per layer opens with the block's (operatorScope() says which).
  void openWithScope(const QString& path, ess::OperatorScope scope);
  /// Sets the input spec (models only): inputChanged() or errorOccurred().
  void setInput(const QString& spec);
  /// New ESS options: drops the cached curves, emits optionsChanged().
  void setOptions(const ess::EssOptions& options);
  /// The block or the SSM-only operators (ess::Session::setOperatorScope), for the open file
  /// and those opened later: operatorScopeChanged() and everything computed again, or
  /// errorOccurred() (a file that holds one operator) and operatorScopeChanged(Block).
  void setOperatorScope(ess::OperatorScope scope);
  /// Materializes the operator of a layer (cached): operatorReady(layer).
  void requestOperator(int layer);
  /// ESS curves of every head of a layer (cached): curveReady(layer, complete). Long curves
  /// arrive twice: strided first (complete = false), then every split.
  void requestCurve(int layer);
  /// Mean |T| over heads first..last of a layer (a picture of a channel group), computed off
  /// the GUI thread from the operator (materialized first when needed): groupOperatorReady().
  void requestGroupOperator(int layer, int first, int last);
  /// Overview tile of T[head] of `layer` (cached), computed off the GUI thread: tileReady(layer,
  /// head, true).
  void requestOverviewTile(int layer, int head);
  /// A detail tile of T[head]; only the latest request is computed (stale ones are dropped):
  /// tileReady(layer, head, false).
  void requestDetailTile(int layer, int head, const ess::TileRequest& request);
  /// Singular values of H_s; only the latest request is computed: spectrumReady().
  void requestSpectrum(int layer, int head, int split);
  /// Curves of every layer (for the layer comparison): layerSummaryReady() at the end.
  void requestAllCurves();
  /// Stops the running work (curves raise ess::Cancelled and are dropped).
  void cancel();
  /// Opens the document's file again (after sourceChanged), with the same input where the
  /// new file takes it: opened() or openFailed() as open().
  void reload();
  /// Goes on with what was read at open although the files changed (ess::Session::
  /// keepContentsAsOpened); what failed is computed again (inputChanged() with the same input).
  void keepAsOpened();

 signals:
  void opened(const QString& path);
  void openFailed(const QString& path, const QString& message);
  void inputChanged(const QString& spec);
  void optionsChanged();
  void operatorScopeChanged(ess::OperatorScope scope);
  void operatorReady(int layer);
  void curveReady(int layer, bool complete);
  void groupOperatorReady(int layer, int first, int last);
  void tileReady(int layer, int head, bool overview);
  /// The overview of a tiled layer could not be computed (also reported by errorOccurred).
  void tileFailed(int layer, int head, const QString& message);
  void spectrumReady(int layer, int head, int split, const QVector<double>& sigma);
  void layerSummaryReady();
  void cancelled();
  void errorOccurred(const QString& message);
  /// A file of the open document changed on disk (truncated, rewritten, replaced or deleted):
  /// seen by the file watcher or by a computation that refused to use it. Once per document
  /// until reload(); never after keepAsOpened(). `message` is the core's sentence.
  void sourceChanged(const QString& file, const QString& message);
  /// Busy state for the status bar; `what` says what runs ("ESS curve of layer 1").
  void busyChanged(bool busy, const QString& what);
  void progressChanged(qint64 done, qint64 total);

 private:
  struct Handle;
  using HandlePtr = std::shared_ptr<Handle>;
  using CancelFlag = std::shared_ptr<std::atomic<bool>>;
  struct SpectrumRequest {
    int layer = -1, head = -1, split = 0;
    bool operator==(const SpectrumRequest& o) const { return layer == o.layer && head == o.head && split == o.split; }
  };
  struct DetailRequest {
    int layer = -1, head = -1;
    ess::TileRequest tile;
    bool operator==(const DetailRequest& o) const;
  };
  using TilePtr = std::shared_ptr<const ess::OperatorTile>;

  asyncjobs::Hooks hooks();
  void startOpen(const QString& path, const QString& input);
  /// errorOccurred(), or sourceChanged() for a file that changed on disk.
  void reportError(const QString& message);
  /// Watches the session's files (ess::Session::sourceFiles) for changes.
  void watchSources();
  void onSourceFileEvent(const QString& path);
  void startJob(const QString& what);
  void finishJob();
  void setLengthFrom(const HandlePtr& handle, int length);
  /// New input or options: bumps the generation (results in flight are dropped) and drops the
  /// caches; `keepOperators` keeps the operators and what is drawn from them (options do not
  /// change them).
  void invalidate(bool keepOperators = false);
  ess::ProgressFn progressFn(quint64 generation, long offset = 0, long scaleTotal = 0);
  static QString groupKey(int layer, int first, int last);
  void startGroupOperator(int layer, int first, int last);
  static qint64 tileKey(int layer, int head) { return (qint64(layer) << 32) | quint32(head); }

  HandlePtr handle_;
  QString path_;
  QString inputSpec_;
  ess::EssOptions options_;
  quint64 generation_ = 0;  // results of older generations are dropped
  CancelFlag cancel_;       // raised by cancel() and by new input or options
  CancelFlag inputCancel_;  // raised by cancel() only: input changes queued behind one another
  CancelFlag openCancel_;   // raised when an open is cancelled or replaced: it reads no further tensor
  int length_ = 0;
  QStringList tokenLabels_;
  qint64 memoryBudget_ = qint64(ess::Session::kDefaultMemoryBudget);
  ess::OperatorScope operatorScope_ = ess::OperatorScope::Block;  // asked for; files that refuse it stay Block
  int busyJobs_ = 0;

  QThreadPool work_;       // one job at a time: operators, curves, input changes
  QThreadPool spectra_;    // spectra at the dragged split, beside the long work
  QThreadPool summaries_;  // mean |T| of channel groups, beside the long work
  QThreadPool tiles_;      // heatmap tiles of long operators, beside the long work
  // Opens run here, never on the GUI thread and never waited for: a newer open or Cancel
  // abandons a pending one (its result is dropped by openGeneration_; one still queued is never
  // started, so scrubbing through a run's checkpoints opens only the last asked for).
  QThreadPool opens_;
  std::atomic<quint64> openGeneration_{0};
  bool openPending_ = false;
  QFileSystemWatcher* watcher_ = nullptr;  // the open session's files
  bool changePrompted_ = false;            // sourceChanged() was emitted for this document
  bool keptAsOpened_ = false;              // keepAsOpened(): changes are no longer reported

  AsyncCache<int, ess::OperatorData> operators_;     // by layer
  AsyncCache<int, ess::CurveData> curves_;           // by layer; strided previews first
  AsyncCache<int, bool> grid_;                       // key 0: the curves of every layer
  AsyncCache<QString, std::vector<double>> groups_;  // mean |T|, by groupKey()
  QSet<QString> wantedGroups_;                       // groups waiting for their operator
  AsyncCache<qint64, ess::OperatorTile> overviews_;  // by tileKey()
  LatestJob<SpectrumRequest, QVector<double>> spectrum_;
  LatestJob<DetailRequest, TilePtr> detail_;
  TilePtr detailTile_;
  int detailLayer_ = -1, detailHead_ = -1;
};
