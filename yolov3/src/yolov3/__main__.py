from yolov3.cli import main

raise SystemExit(main())
