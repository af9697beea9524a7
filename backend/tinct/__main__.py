from tinct.cli import main

raise SystemExit(main())
