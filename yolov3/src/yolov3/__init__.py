"""YOLOv3 from scratch in PyTorch."""

import cv2

# OpenCV's own thread pool is not fork-safe. A DataLoader worker forked from a process whose
# pool has started inherits the pool's state without its threads, and an OpenCV call in the
# worker that reconfigures the pool (``cv2.setNumThreads``) waits forever on a lock no thread
# will release. With the pool off from the start (0: every OpenCV function runs in the
# calling thread), nothing is inherited; the loader workers are the parallelism. This runs
# on the first import of any yolov3 module, so before yolov3 itself ever calls OpenCV.
cv2.setNumThreads(0)

__version__ = "0.1.0"
